"""Provides `python -m appliance.whatsapp.simulator`: the simulator under gunicorn.

One worker only: the simulated customers, messages and queues live in that process's
memory. The config is read (and on a fresh box created) in the master, so a bad file
stops the start with one line instead of a crashing worker.
"""

from __future__ import annotations

import os
import sys

from appliance.config import load_settings
from appliance.errors import GembokError
from appliance.whatsapp.simulator.app import Simulator, load_default_config
from appliance.whatsapp.simulator.config import CONFIG_ENV
from appliance.wsgi_server import Listener, serve


def main() -> None:
    try:
        settings = load_settings({k: v for k, v in os.environ.items() if k != CONFIG_ENV})
        config = load_default_config()

        def factory() -> Simulator:
            return Simulator(config)

        serve(factory, Listener("gembok-simulator", settings.simulator.host,
                                settings.simulator.port, workers=1, threads=8))
    except GembokError as exc:
        print(f"gembok: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
