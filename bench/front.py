"""Provides `Front`: the installed box's nginx, for benchmarks, on loopback ports.

The site is the Ansible role's own template (`etc/nginx/sites-available/gembok.conf.j2`)
rendered with the role's defaults, so the bench measures the very front a user gets:
TLS 1.2/1.3 with the same ciphers and session cache, the same timeouts and limits
(20 requests in progress per address on the webhook), the webhook's access log, and a
new connection to gunicorn's unix socket for each request. Only what cannot be the same
on a bench differs: loopback ports instead of 8443/8444, sockets, certificate and logs
in the bench's scratch dir, no IPv6 listener. `nginx.conf` is Debian's own with the
role's two changes (worker_connections 4096, worker_rlimit_nofile 8192); its other
includes (conf.d, other sites) are left out, as they are the admin's and not Gembok's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import jinja2
import yaml
from procs import ROOT, Stack

ROLE = ROOT / "ansible" / "roles" / "gembok"
SITE = ROLE / "templates" / "etc" / "nginx" / "sites-available" / "gembok.conf.j2"
DEBIAN_CONF = Path("/etc/nginx/nginx.conf")


def _defaults() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    return {k: v for k, v in values.items() if k.startswith("gembok__front_")}


def render_site(*, webhook_port: int, web_port: int, webhook_socket: Path, web_socket: Path,
                cert: Path, key: Path, logs: Path, keepalive: int = 0) -> str:
    """The role's site; `keepalive` > 0 (an experiment, not the template) keeps that many
    idle connections to each upstream open instead of one connection per request."""
    variables = _defaults() | {
        "gembok__webhook_port": f"127.0.0.1:{webhook_port}",
        "gembok__web_port": f"127.0.0.1:{web_port}",
        "gembok__webhook_socket": str(webhook_socket), "gembok__web_socket": str(web_socket),
        "gembok__front_ipv6": False,
        "gembok__front_webhook_cert": str(cert), "gembok__front_webhook_key": str(key),
        "gembok__front_web_cert": str(cert), "gembok__front_web_key": str(key),
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False)  # noqa: S701 - an nginx config, not HTML
    site = env.from_string(SITE.read_text()).render(variables)
    site = site.replace("/var/log/nginx/gembok-webhook.log", str(logs / "gembok-webhook.log"))
    if keepalive:
        site = re.sub(r"(server unix:[^;]+;)", rf"\1\n\tkeepalive {keepalive};", site)
        site = site.replace("proxy_http_version 1.1;",
                            'proxy_http_version 1.1;\n\t\tproxy_set_header Connection "";')
    return site


def render_main(prefix: Path, site: Path) -> str:
    """Debian's nginx.conf with the role's changes, its paths moved into `prefix`."""
    text = DEBIAN_CONF.read_text()
    text = re.sub(r"(?m)^\s*worker_connections\s.*$", "\tworker_connections 4096;", text)
    text = re.sub(r"(?m)^(\s*events\s*\{)", "worker_rlimit_nofile 8192;\n\\1", text, count=1)
    text = re.sub(r"(?m)^pid\s.*$", f"pid {prefix / 'nginx.pid'};", text)
    text = re.sub(r"(?m)^error_log\s.*$", f"error_log {prefix / 'error.log'};", text)
    text = re.sub(r"(?m)^(\s*)access_log\s.*$", rf"\1access_log {prefix / 'access.log'};", text)
    text = re.sub(r"(?m)^\s*include /etc/nginx/conf\.d/.*$", "", text)
    temps = "".join(f"\t{name}_temp_path {prefix / name};\n"
                    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = re.sub(r"(?m)^\s*include /etc/nginx/sites-enabled/.*$",
                  f"{temps}\tinclude {site};", text)
    if os.geteuid() != 0:  # only root can switch users; the workers stay ours
        text = re.sub(r"(?m)^user\s.*$", "", text)
    return text


class Front:
    """nginx on two loopback ports in front of two unix sockets; run with `start`."""

    def __init__(self, prefix: Path, *, webhook_socket: Path, web_socket: Path, cert: Path,
                 key: Path, webhook_port: int, web_port: int, keepalive: int = 0) -> None:
        if shutil.which("nginx") is None:
            raise SystemExit("nginx is missing: apt-get install nginx (the box's front)")
        self.prefix, self.webhook_port = prefix, webhook_port
        prefix.mkdir(parents=True, exist_ok=True)
        site = prefix / "gembok.conf"
        site.write_text(render_site(webhook_port=webhook_port, web_port=web_port,
                                    webhook_socket=webhook_socket, web_socket=web_socket,
                                    cert=cert, key=key, logs=prefix, keepalive=keepalive))
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(render_main(prefix, site))
        self.url = f"https://127.0.0.1:{webhook_port}"

    def start(self, stack: Stack) -> None:
        argv = ["nginx", "-p", str(self.prefix), "-c", str(self.conf), "-e",
                str(self.prefix / "error.log"), "-g", "daemon off;"]
        checked = subprocess.run([*argv[:-2], "-t", "-q"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise SystemExit(f"nginx refused the bench's config: {checked.stderr}")
        stack.start(argv)

    def wait_healthy(self, timeout: float = 30) -> None:
        """Until the app behind the webhook socket answers through nginx."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", verify=False, timeout=2).status_code == 200:  # noqa: S501
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"nothing answered behind nginx; see {self.prefix / 'error.log'}")
