"""Provides the checks a setting's value must pass, and the strict parser that applies them.

A value is parsed once, from its TOML type or its variable's text, and never guessed:
a bad one raises `ConfigError` naming the key, where it came from and what is allowed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import urllib.parse
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.errors import GembokError


class ConfigError(GembokError):
    """A setting has a bad value, an unknown name, or the config file cannot be read."""


Check = Callable[[Any], str | None]  # returns what is allowed when the value is refused


def port(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "a TCP port from 1 to 65535"


def at_least(low: int, high: int) -> Check:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"a whole number from {low} to {high}"

    return check


def one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else "one of " + ", ".join(choices)

    return check


def ip_address(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "an IP address such as 127.0.0.1 or 0.0.0.0"
    return None


def timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone such as Asia/Jakarta"
    return None


def clock_time(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value)
    return None if ok else 'a time of day such as "02:00" (24-hour, office time), or empty'


def region(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Z]{2}", value) else "a two-letter region code such as ID"


def graph_version(value: str) -> str | None:
    return None if re.fullmatch(r"v\d+\.\d+", value) else "a Graph API version such as v25.0"


def http_url_or_empty(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value)
    return None if ok else "an http:// or https:// URL without spaces (or empty)"


def digits_or_empty(value: str) -> str | None:
    return None if re.fullmatch(r"\d{0,32}", value) else "digits only, as Meta shows the id"


def emails(value: tuple[str, ...]) -> str | None:
    bad = [v for v in value if not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", v)]
    return None if not bad else "e-mail addresses such as it@example.co.id"


def phones(value: tuple[str, ...]) -> str | None:
    bad = [v for v in value if not re.fullmatch(r"\+\d{8,15}", v.replace(" ", "").replace("-", ""))]
    return None if not bad else "phone numbers with their country code, such as +6281234567890"


def hostname(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"[A-Za-z0-9.-]{1,253}", value)
    return None if ok else "a host name or IP address (empty: no e-mail)"


def networks(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return "IP networks such as 192.168.1.0/24 or fd00::/8"
    return None


# The web UI is for the office LAN: the private ranges, until the admin names theirs.
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")


def redis_url(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"(unix|redis|rediss)://\S+", value)
    return None if ok else 'empty (embedded Redis) or a unix://, redis:// or rediss:// URL'


def store_url(value: str) -> str | None:
    """Empty (the SQLCipher file) or a PostgreSQL URL that names a database and holds no
    password: a URL is printed in logs and `ps`, a password file is not."""
    if value == "":
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        return "empty (the SQLCipher file) or postgresql://user@host:port/database"
    if parts.password is not None or "password=" in parts.query:
        return "a URL without a password: put it in store.password_file"
    return None


def _without_password(shown: str) -> str:
    """A URL's user:password@ shown as user:***@, so that refusing one does not print it."""
    return re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", shown)


def unix_socket(value: Path) -> str | None:
    # sun_path holds 108 bytes with its NUL: a longer path fails deep inside bind()
    ok = len(os.fsencode(value)) <= 107
    return None if ok else "the path of a unix socket, at most 107 bytes long"


def parse_value(key: str, value: Any, source: str, spec: dataclasses.Field[Any]) -> Any:
    kind = str(spec.type)
    from_env = source.startswith("environment")
    shown = "<hidden>" if spec.metadata.get("secret") else _without_password(repr(value))

    def refuse(allowed: str) -> ConfigError:
        return ConfigError(f"setting {key} = {shown} (from {source}) is not valid: "
                           f"expected {allowed}")

    if kind == "bool":
        if from_env:
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise refuse("true or false")
            value = lowered in ("true", "1", "yes")
        elif not isinstance(value, bool):
            raise refuse("true or false")
    elif kind == "int":
        if from_env:
            if not re.fullmatch(r"-?\d+", value.strip()):
                raise refuse("a whole number")
            value = int(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise refuse("a whole number")
    elif kind == "tuple[str, ...]":
        if from_env:
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = tuple(value)
        else:
            raise refuse("a list of strings, such as [\"a\", \"b\"]")
    elif kind in ("str", "Path", "Path | None"):
        if not isinstance(value, str):
            raise refuse("a quoted string")
        if kind != "str":
            if not value.strip():
                raise refuse("a file or directory path")
            value = Path(value).expanduser().absolute()
    else:  # pragma: no cover - a setting declared with a type this parser lacks
        raise TypeError(f"setting {key} has unsupported type {kind}")
    check: Check | None = spec.metadata.get("check")
    if check is not None and (allowed := check(value)) is not None:
        raise refuse(allowed)
    return value
