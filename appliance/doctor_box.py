"""Provides `gembok doctor`'s checks of an installed box: units, credential, modes, Redis, the
front (nginx) and the TLS it serves.

They run where systemd knows Gembok's units (the Ansible install), as the service user,
through the root `gembok` wrapper that hands the master key credential over exactly as
it does to the services. Each says what it looked at and, when it fails, what to do.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import redis
from cryptography import x509

from appliance import broker_link
from appliance.config import CONFIG_ENV, Settings
from appliance.doctor import Result
from appliance.units import UnitState

CREDSTORE = Path("/etc/credstore.encrypted")
# Files beside the config file that hold secrets by the role's naming: never the service's.
SECRET_SUFFIXES = (".env", ".acl", ".password")
_RAM_FILESYSTEMS = ("ramfs", "tmpfs")
FRONT_UNIT = "nginx.service"


def box_checks(settings: Settings, units: list[UnitState]) -> list[Result]:
    results = [_unit(u) for u in units]
    results.append(_credential(settings))
    results.append(_data_dir(settings))
    results.extend(_config_and_secrets())
    if settings.redis.url:
        results.extend(_redis_acl(settings.redis.url, settings.redis.ca_file))
    web, hook = settings.web, settings.webhook
    if web.behind_proxy or hook.behind_proxy:
        results.append(_front_unit(front_state()))
    if web.behind_proxy:
        results.append(front_serves("web UI", "gembok-web", web.host, web.port, web.socket))
    results.append(_served_certificate("web UI", web.host, web.port))
    if hook.behind_proxy:
        results.append(front_serves("webhook", "gembok-webhook", hook.host, hook.port,
                                    hook.socket))
    if hook.tls:  # behind the front: what nginx serves there
        results.append(_served_certificate("webhook", hook.host, hook.port))
    return results


def front_state() -> str:
    """nginx's state as systemd sees it, e.g. "active (running)"."""
    if shutil.which("systemctl") is None:
        return "unknown (no systemctl)"
    try:
        done = subprocess.run(["systemctl", "show", "--property=LoadState,ActiveState,SubState",
                               FRONT_UNIT], capture_output=True, text=True, timeout=5,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({type(exc).__name__})"
    fields = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if fields.get("LoadState") != "loaded":
        return "not installed"
    return f"{fields.get('ActiveState')} ({fields.get('SubState')})"


def _front_unit(state: str) -> Result:
    name = "front (nginx)"
    if state.startswith("active "):
        return Result("ok", name, f"{FRONT_UNIT} {state}")
    return Result("FAIL", name, f"{FRONT_UNIT} is {state}: nothing serves the web UI and the "
                                "webhook; see `systemctl status nginx` and "
                                "/var/log/nginx/error.log")


def front_serves(label: str, unit: str, host: str, port: int, sock: Path | None) -> Result:
    """That nginx, not something else, answers on the face's port and reaches the app."""
    name = f"front {label}"
    target = _local(host)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the path through nginx is checked, not its name
    conn = http.client.HTTPSConnection(target, port, timeout=3, context=context)
    try:
        conn.request("GET", "/healthz")
        reply = conn.getresponse()
        status, server = reply.status, reply.getheader("Server", "")
    except (OSError, http.client.HTTPException) as exc:
        return Result("FAIL", name, f"nothing answers HTTPS on {target}:{port} ({exc}): is "
                                    "nginx running? `systemctl status nginx`")
    finally:
        conn.close()
    if server.partition("/")[0] != "nginx":  # "nginx", or "nginx/1.22.1" with server_tokens
        return Result("FAIL", name, f"port {port} is served by {server or 'an unnamed server'}, "
                                    f"not nginx: the {label} faces its clients without the front")
    if status != 200:
        return Result("FAIL", name, f"nginx on port {port} answers {status}: the {label} behind "
                                    f"it does not; see `journalctl -u {unit}` and "
                                    "/var/log/nginx/error.log")
    return Result("ok", name, f"nginx on port {port} passes requests to "
                              f"{f'unix:{sock}' if sock else unit}")


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104


def _unit(unit: UnitState) -> Result:
    if unit.active:
        return Result("ok", f"unit {unit.name}", unit.detail)
    return Result("FAIL", f"unit {unit.name}", f"{unit.detail}: see `systemctl status "
                                                f"{unit.name}` and `journalctl -u {unit.name}`")


def _credential(settings: Settings) -> Result:
    name = "master key credential"
    path = settings.master_key_path
    if settings.credentials_dir is None or not path.is_relative_to(settings.credentials_dir):
        return Result("FAIL", name, f"the master key comes from {path}, not from systemd: run "
                                    "`gembok doctor` as root (the wrapper hands over the "
                                    "sealed credential)")
    clear = settings.data_dir / "master.key"
    if clear.exists():
        return Result("FAIL", name, f"a clear master key lies on disk at {clear}: keep it "
                                    "offline, then delete it from the box")
    try:
        info = path.stat()
    except OSError as exc:
        return Result("FAIL", name, f"{path}: {exc.strerror}")
    fs = _filesystem_of(path)
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077 \
            or fs not in _RAM_FILESYSTEMS:
        return Result("FAIL", name, f"{path} is mode {stat.S_IMODE(info.st_mode):04o}, owner "
                                    f"uid {info.st_uid}, on {fs}: expected this user's alone, "
                                    "in memory")
    return Result("ok", name, f"handed over by systemd in memory ({fs}, mode "
                              f"{stat.S_IMODE(info.st_mode):04o}); sealed on disk only")


def _filesystem_of(path: Path) -> str:
    """The file system type of the mount holding `path` (the longest matching mount point)."""
    best, kind = "", "unknown"
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        point = left.split()[4]
        if (str(path) + "/").startswith(point.rstrip("/") + "/") and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def _data_dir(settings: Settings) -> Result:
    name = "data dir modes"
    root = settings.data_dir
    info = root.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        return Result("FAIL", name, f"{root} is mode {stat.S_IMODE(info.st_mode):04o}, owner "
                                    f"uid {info.st_uid}: run chmod 700 and chown it to the "
                                    "service user")
    public = {settings.tls_cert_path}  # a certificate is shown to every browser anyway
    loose = [p for p in root.rglob("*") if not p.is_symlink() and not p.is_socket()
             and (p.stat().st_uid != os.getuid()
                  or stat.S_IMODE(p.stat().st_mode) & (0o022 if p in public else 0o077))]
    if loose:
        shown = ", ".join(str(p) for p in loose[:3])
        return Result("FAIL", name, f"{len(loose)} file(s) others can read or another user "
                                    f"owns, such as {shown}: chmod go= and chown them")
    return Result("ok", name, f"{root} and everything in it: this user's alone")


def _config_and_secrets() -> Iterator[Result]:
    config = os.environ.get(CONFIG_ENV)
    if not config:
        yield Result("warn", "config file", f"{CONFIG_ENV} is not set")
        return
    path = Path(config)
    if path.stat().st_uid != 0 or os.access(path, os.W_OK):
        yield Result("FAIL", "config file", f"{path} can be changed by the service user: "
                                            "chown root and chmod 640")
    else:
        yield Result("ok", "config file", f"{path}: root's, read-only for this user")
    readable = [p for p in sorted(path.parent.iterdir())
                if p.suffix in SECRET_SUFFIXES and os.access(p, os.R_OK)]
    if os.access(CREDSTORE, os.R_OK) or os.access(CREDSTORE, os.X_OK):
        readable.append(CREDSTORE)
    if readable:
        yield Result("FAIL", "secrets on disk", "the service user can read "
                     + ", ".join(map(str, readable)) + ": chmod 600 (root only); systemd "
                     "reads them for the services")
    else:
        yield Result("ok", "secrets on disk", f"{CREDSTORE} and the secrets beside {path.name} "
                                              "are root's alone")


def _redis_acl(url: str, ca_file: Path | None) -> Iterator[Result]:
    name = "redis ACL"
    try:
        with broker_link.client(url, ca_file, socket_timeout=2) as client:
            user = str(client.execute_command("ACL", "WHOAMI"), "utf-8")
            try:
                client.config_get("maxmemory")
                admin = True
            except redis.exceptions.NoPermissionError:
                admin = False
    except (redis.RedisError, OSError) as exc:
        yield Result("FAIL", name, f"cannot ask Redis who Gembok is ({type(exc).__name__})")
        return
    if user == "default":
        yield Result("FAIL", name, "Gembok signs in as Redis's default user: give it an ACL user")
    elif admin:
        yield Result("warn", name, f"user {user} may run admin commands (CONFIG): "
                                   "deny it -@dangerous")
    else:
        yield Result("ok", name, f"Gembok is Redis user {user}, without admin commands")
    try:
        with broker_link.client(without_credentials(url), ca_file, socket_timeout=2) as client:
            client.ping()
        yield Result("FAIL", "redis password", "Redis answers without a password: turn its "
                                               "default user off (user default off)")
    except redis.AuthenticationError:
        yield Result("ok", "redis password", "Redis refuses a client without the password")
    except (redis.RedisError, OSError) as exc:
        yield Result("warn", "redis password", f"could not try Redis without the password "
                                               f"({type(exc).__name__})")


def without_credentials(url: str) -> str:
    """The same Redis, as a client without the password would reach it.

    Done on the string: unsplitting a unix:// URL with an empty host drops its "//".
    """
    netloc = urlsplit(url).netloc
    return url.replace(netloc, netloc.rpartition("@")[2], 1)


def _served_certificate(label: str, host: str, port: int) -> Result:
    """What a browser or Meta is actually shown, whichever file it came from."""
    name = f"TLS {label} (served)"
    target = _local(host)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only its dates are read here
    try:
        with socket.create_connection((target, port), timeout=3) as raw, \
                context.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
            version = tls.version()
    except OSError as exc:
        return Result("FAIL", name, f"nothing answers TLS on {target}:{port} ({exc})")
    if der is None:
        return Result("FAIL", name, f"{target}:{port} showed no certificate")
    cert = x509.load_der_x509_certificate(der)
    days = (cert.not_valid_after_utc - datetime.now(UTC)).days
    status = "FAIL" if days < 0 else "warn" if days < 30 else "ok"
    return Result(status, name, f"port {port}, {version}: {cert.subject.rfc4514_string()}, "
                                f"expires {cert.not_valid_after_utc:%Y-%m-%d} ({days} days)")
