"""Provides `gembok doctor`'s checks of an installed box: units, credential, modes, Redis, TLS.

They run where systemd knows Gembok's units (the Ansible install), as the service user,
through the root `gembok` wrapper that hands the master key credential over exactly as
it does to the services. Each says what it looked at and, when it fails, what to do.
"""

from __future__ import annotations

import os
import socket
import ssl
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import redis
from cryptography import x509

from appliance.config import CONFIG_ENV, Settings
from appliance.doctor import Result
from appliance.units import UnitState

CREDSTORE = Path("/etc/credstore.encrypted")
# Files beside the config file that hold secrets by the role's naming: never the service's.
SECRET_SUFFIXES = (".env", ".acl", ".password")
_RAM_FILESYSTEMS = ("ramfs", "tmpfs")


def box_checks(settings: Settings, units: list[UnitState]) -> list[Result]:
    results = [_unit(u) for u in units]
    results.append(_credential(settings))
    results.append(_data_dir(settings))
    results.extend(_config_and_secrets())
    if settings.redis.url:
        results.extend(_redis_acl(settings.redis.url))
    results.append(_served_certificate("web UI", settings.web.host, settings.web.port))
    if settings.webhook.tls:
        results.append(_served_certificate("webhook", settings.webhook.host,
                                           settings.webhook.port))
    return results


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


def _redis_acl(url: str) -> Iterator[Result]:
    name = "redis ACL"
    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
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
        with redis.Redis.from_url(without_credentials(url), socket_timeout=2) as client:
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
    target = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only its dates are read here
    try:
        with socket.create_connection((target, port), timeout=3) as raw, \
                context.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    except OSError as exc:
        return Result("FAIL", name, f"nothing answers TLS on {target}:{port} ({exc})")
    if der is None:
        return Result("FAIL", name, f"{target}:{port} showed no certificate")
    cert = x509.load_der_x509_certificate(der)
    days = (cert.not_valid_after_utc - datetime.now(UTC)).days
    status = "FAIL" if days < 0 else "warn" if days < 30 else "ok"
    return Result(status, name, f"port {port}: {cert.subject.rfc4514_string()}, expires "
                                f"{cert.not_valid_after_utc:%Y-%m-%d} ({days} days)")
