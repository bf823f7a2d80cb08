"""Provides `gembok-serve web|webhook`: the web UI or the webhook listener under gunicorn."""

from __future__ import annotations

import os
import sys

from appliance.config import Settings, load_settings
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
            from webui.lan_only import LanOnly

            listener = Listener("gembok-web", settings.web.host, settings.web.port,
                                settings.web.workers, settings.web.threads,
                                settings.tls_cert_path, settings.tls_key_path)
            serve(lambda: LanOnly(create_app(settings), settings.web.allowed_networks),
                  listener)
        else:
            from webui.webhook_app import create_webhook_app

            tls = settings.webhook.tls
            if tls:
                _both_or_neither(settings)
            listener = Listener("gembok-webhook", settings.webhook.host, settings.webhook.port,
                                settings.webhook.workers, settings.webhook.threads,
                                settings.webhook_cert_path if tls else None,
                                settings.webhook_key_path if tls else None)
            serve(lambda: create_webhook_app(settings), listener)
    except GembokError as exc:
        print(f"gembok: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


def _both_or_neither(settings: Settings) -> None:
    """A certificate without its key (or the reverse) would fail deep inside ssl: say so."""
    if (settings.webhook.cert_file is None) != (settings.webhook.key_file is None):
        raise GembokError("set both webhook.cert_file and webhook.key_file (the certificate "
                          "Meta sees and its key), or neither to reuse the web UI's")


if __name__ == "__main__":
    main()
