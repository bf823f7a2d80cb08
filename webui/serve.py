"""Provides `gembok-serve web|webhook`: the web UI or the webhook listener under gunicorn."""

from __future__ import annotations

import os
import sys

from appliance.config import load_settings
from appliance.errors import GembokError
from appliance.wsgi_server import Listener, serve


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["web"], ["webhook"]):
        sys.exit("usage: gembok-serve web|webhook")
    os.umask(0o077)
    try:
        settings = load_settings()
        if args == ["web"]:
            from webui import create_app

            listener = Listener("gembok-web", settings.web.host, settings.web.port,
                                settings.web.workers, settings.web.threads,
                                settings.tls_cert_path, settings.tls_key_path)
            serve(lambda: create_app(settings), listener)
        else:
            from webui.webhook_app import create_webhook_app

            tls = settings.webhook.tls
            listener = Listener("gembok-webhook", settings.webhook.host, settings.webhook.port,
                                settings.webhook.workers, settings.webhook.threads,
                                settings.tls_cert_path if tls else None,
                                settings.tls_key_path if tls else None)
            serve(lambda: create_webhook_app(settings), listener)
    except GembokError as exc:
        print(f"gembok: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
