"""The `encryption off` run's worker: Gembok's worker whose campaign runner opens nothing.

Each recipient's number and values come from a JSON file the bench wrote beside the
data dir (customer id -> [phone, {values}]), in the clear, instead of being opened from
the database under the customer's key: the same runner otherwise, to price the opening.

    python bench/plain_worker.py <clear.json>
"""

from __future__ import annotations

import json
import sys
from typing import Any

from appliance import tasks
from appliance.automation import campaign_runner, campaign_statuses, template_book
from appliance.config import load_settings


def main() -> None:
    clear: dict[str, list[Any]] = json.loads(open(sys.argv[1]).read())  # noqa: SIM115

    def messages(self: Any, plan: Any, rows: list[tuple[Any, ...]]) -> list[Any]:
        t = plan.template
        out = []
        for rid, customer_id, *_ in rows:
            phone, values = clear[str(customer_id)]
            out.append(({"messaging_product": "whatsapp", "recipient_type": "individual",
                         "type": "template", "to": phone,
                         "template": {"name": t.name, "language": {"code": t.language},
                                      "components": template_book.components(t, values)},
                         "biz_opaque_callback_data": campaign_statuses.callback_for(int(rid))},
                        int(rid)))
        return out

    campaign_runner._Runner._messages = messages  # type: ignore[method-assign]
    settings = load_settings()
    settings.run_dir.mkdir(exist_ok=True)
    tasks.run_worker(settings, settings.run_dir / "worker.ready")


if __name__ == "__main__":
    main()
