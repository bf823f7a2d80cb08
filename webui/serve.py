"""Provides `gembok-serve web|webhook`: the web UI or the webhook listener under gunicorn.

Alone (the quick start), each serves TLS on host:port itself. Behind the installed box's
nginx (`behind_proxy`), each speaks plain HTTP on its unix socket and takes the client
address from the front alone, outside the LAN-only check, which then sees the real one.
"""

from __future__ import annotations

import os
import sys

from appliance.config import Settings, load_settings
from appliance.errors import GembokError
from appliance.store.db import close_connection
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
            from webui.lan_only import lan_only

            web = settings.web
            tls = not web.behind_proxy  # behind the front, nginx holds the certificate
            listener = Listener("gembok-web", web.host, web.port, web.workers, web.threads,
                                settings.tls_cert_path if tls else None,
                                settings.tls_key_path if tls else None, web.socket)
            serve(lambda: lan_only(create_app(settings), web.allowed_networks,
                                   behind_proxy=web.behind_proxy), listener,
                  before_fork=close_connection)
        else:
            from webui.lan_only import behind_front
            from webui.webhook_app import create_webhook_app

            hook = settings.webhook
            tls = hook.tls and not hook.behind_proxy
            if tls:
                _both_or_neither(settings)
            listener = Listener("gembok-webhook", hook.host, hook.port, hook.workers,
                                hook.threads, settings.webhook_cert_path if tls else None,
                                settings.webhook_key_path if tls else None, hook.socket)
            serve(lambda: behind_front(create_webhook_app(settings), hook.behind_proxy),
                  listener, before_fork=close_connection)
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
