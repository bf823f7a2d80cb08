"""Provides `load_settings()`: the TOML file, then GEMBOK_* variables on top, into `Settings`.

Unknown keys are errors (a typo must not silently keep a default) and secrets are refused
in the file; `describe()` lists every setting for the README and `gembok config`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.config.checks import ConfigError, parse_value
from appliance.config.settings import SECTIONS, Settings

ENV_PREFIX = "GEMBOK_"
CONFIG_ENV = "GEMBOK_CONFIG"


@dataclass(frozen=True)
class SettingInfo:
    """One documented setting, as the README and `gembok config` list it."""

    key: str
    env: str
    default: Any
    doc: str
    secret: bool = False


def describe() -> list[SettingInfo]:
    """Every setting with its environment variable and default, for docs and the docs test."""
    out: list[SettingInfo] = []
    for f in dataclasses.fields(Settings):
        if f.name in SECTIONS:
            for sf in dataclasses.fields(SECTIONS[f.name]):
                key = f"{f.name}.{sf.name}"
                out.append(SettingInfo(key, _env_name(key), sf.default, sf.metadata["doc"],
                                       sf.metadata.get("secret", False)))
        elif not f.metadata.get("internal"):
            out.append(SettingInfo(f.name, _env_name(f.name), f.default, f.metadata["doc"]))
    return out


def _env_name(key: str) -> str:
    return ENV_PREFIX + key.replace(".", "_").upper()


def load_settings(env: Mapping[str, str] | None = None,
                  config_file: Path | None = None) -> Settings:
    """Reads the TOML file (GEMBOK_CONFIG or `config_file`), then GEMBOK_* variables on top."""
    env = os.environ if env is None else env
    if config_file is None and env.get(CONFIG_ENV):
        config_file = Path(env[CONFIG_ENV])
    raw: dict[str, tuple[Any, str]] = {}  # key -> (value, source)
    if config_file is not None:
        raw.update(_read_toml(config_file))
    raw.update(_read_env(env))

    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for key, (value, source) in raw.items():
        section, _, name = key.rpartition(".")
        cls = SECTIONS[section] if section else Settings
        spec = {f.name: f for f in dataclasses.fields(cls)}[name]
        parsed = parse_value(key, value, source, spec)
        (nested[section] if section else top)[name] = parsed
    for section, cls in SECTIONS.items():
        top[section] = cls(**nested[section])
    creds = env.get("CREDENTIALS_DIRECTORY")
    top["credentials_dir"] = Path(creds) if creds else None
    top["data_dir"] = Path(top.get("data_dir", Path("var"))).absolute()
    return Settings(**top)


def _known_keys() -> dict[str, str]:
    return {info.key: info.env for info in describe()}


def _read_env(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    by_env = {v: k for k, v in _known_keys().items()}
    out: dict[str, tuple[Any, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        if name not in by_env:
            raise ConfigError(
                f"unknown environment variable {name}: Gembok has no such setting "
                f"(known: {', '.join(sorted(by_env))})")
        out[by_env[name]] = (value, f"environment variable {name}")
    return out


def _read_toml(path: Path) -> dict[str, tuple[Any, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}; "
                          f"check the path given in {CONFIG_ENV}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    lines = _key_lines(text)
    known = _known_keys()
    out: dict[str, tuple[Any, str]] = {}

    secrets = {info.key for info in describe() if info.secret}

    def add(key: str, value: Any) -> None:
        where = f"{path}:{lines.get(key, '?')}"
        if key not in known:
            raise ConfigError(f"unknown setting {key} in {where}: "
                              f"check the spelling (known: {', '.join(sorted(known))})")
        if key in secrets:
            raise ConfigError(f"setting {key} in {where} is a secret and does not belong in the "
                              "config file: remove it and enter it with `gembok whatsapp "
                              "configure` (it is kept sealed in the database)")
        out[key] = (value, where)

    for name, value in data.items():
        if name in SECTIONS and isinstance(value, dict):
            for sub, subvalue in value.items():
                add(f"{name}.{sub}", subvalue)
        else:
            add(name, value)
    return out


def _key_lines(text: str) -> dict[str, int]:
    """Finds the line of each `key =` so that an error can point at it (tomllib cannot)."""
    section = ""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if m := re.fullmatch(r"\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?", stripped):
            section = m.group(1)
        elif m := re.match(r"([A-Za-z0-9_-]+)\s*=", stripped):
            found.setdefault(f"{section}.{m.group(1)}" if section else m.group(1), number)
    return found

