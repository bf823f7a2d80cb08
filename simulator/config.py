"""Provides `SimulatorConfig`: the simulated business, its secrets and knobs, in a JSON file.

The file holds the access token and app secret that Gembok must also know, and the
control token that opens the simulator's own `/_sim/` API, so it is treated like an ssh
key: written 0600 atomically, refused when group or others can read it, and parsed
strictly (an unknown key is a typo, never silently ignored).
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.atomicfile import write_atomic
from appliance.errors import GembokError
from simulator.templates import DEFAULT_TEMPLATES, normalise_template

CONFIG_ENV = "GEMBOK_SIMULATOR_CONFIG"
MESSAGING_LIMITS = (250, 2000, 10000, 100000, None)
WINDOW_FAILURES = ("async", "sync")


class SimulatorConfigError(GembokError):
    """The simulator's config file is missing, unsafe or wrong; the message says which and why."""

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem or message


@dataclass(frozen=True)
class SimulatorConfig:
    """One simulated business on the Cloud API, and how faithfully (or harshly) to behave."""

    phone_number_id: str
    waba_id: str
    display_phone_number: str
    business_name: str
    access_token: str
    app_secret: str
    verify_token: str
    # Opens the control API (`/_sim/…`, see access.py). Empty only in a file written before
    # it existed: `ensure_config` then adds one, and until then every control call is refused.
    control_token: str = field(default="", repr=False)
    webhook_url: str = ""
    webhook_ca_file: str | None = None
    api_version: str = "v25.0"
    throughput_mps: int = 80
    messaging_limit: int | None = 250
    window_failure: str = "async"
    retry_base_seconds: float = 1.0
    retry_max_attempts: int = 8
    auto_deliver_seconds: float = 0.2
    fault_timeout_seconds: float = 15.0
    webhook_timeout_seconds: float = 10.0
    # Meta's time to answer a send, uniform in [low, high] ms (a benchmark's 150-300);
    # the calls wait outside the state lock, so `server_threads` must hold them all.
    latency_ms: tuple[int, int] = (0, 0)
    server_threads: int = 8
    # Meta's per-person cap on marketing templates in a moving 24 h (131049); None: none
    marketing_cap_per_day: int | None = None
    templates: tuple[dict[str, Any], ...] = field(default=DEFAULT_TEMPLATES)
    # The business's other numbers on the same app (one per brand or region):
    # {"phone_number_id", "display_phone_number", "verified_name"} each, and "waba_id" for
    # a number in another WhatsApp Business Account (which has templates of its own).
    # Sends go out from the number in the path; a customer writes to one of them.
    more_numbers: tuple[dict[str, str], ...] = ()

    def __post_init__(self) -> None:
        problem = _check(self)
        if problem:
            raise SimulatorConfigError(f"simulator config: {problem}", problem)
        try:
            normalised = tuple(normalise_template(t, i) for i, t in enumerate(self.templates))
        except (ValueError, TypeError, AttributeError) as exc:
            raise SimulatorConfigError(f"simulator config: {exc}", str(exc)) from None
        object.__setattr__(self, "templates", normalised)
        object.__setattr__(self, "latency_ms", tuple(self.latency_ms))
        object.__setattr__(self, "more_numbers", tuple(dict(n) for n in self.more_numbers))
        object.__setattr__(self, "_views", {self.phone_number_id: self})

    def number_ids(self) -> list[str]:
        return [self.phone_number_id, *(n["phone_number_id"] for n in self.more_numbers)]

    def waba_ids(self) -> list[str]:
        """The business's accounts: the first's, then any other a number is in."""
        found = [self.waba_id]
        for n in self.more_numbers:
            waba_id = n.get("waba_id", self.waba_id)
            if waba_id not in found:
                found.append(waba_id)
        return found

    def numbers_of(self, waba_id: str) -> list[str]:
        return [n for n in self.number_ids() if self.as_number(n).waba_id == waba_id]

    def as_number(self, phone_number_id: str | None) -> SimulatorConfig:
        """The business as seen from one of its numbers: the same app, WABA and knobs with
        that number's ids (the first number for None or an id it does not have)."""
        views: dict[str, SimulatorConfig] = self.__dict__["_views"]
        if not phone_number_id or phone_number_id in views:
            return views.get(phone_number_id or "", self)
        other = next((n for n in self.more_numbers
                      if n["phone_number_id"] == phone_number_id), None)
        if other is None:
            return self
        view = dataclasses.replace(self, phone_number_id=other["phone_number_id"],
                                   waba_id=other.get("waba_id", self.waba_id),
                                   display_phone_number=other["display_phone_number"],
                                   business_name=other["verified_name"], more_numbers=())
        views[phone_number_id] = view
        return view

    @property
    def api_major(self) -> int:
        return int(self.api_version[1:].split(".")[0])


def _check(c: SimulatorConfig) -> str | None:
    for name in ("phone_number_id", "waba_id", "display_phone_number"):
        value = getattr(c, name)
        if not isinstance(value, str) or not value.isdigit():
            return f"{name} must be a string of digits, not {value!r}"
    for name in ("business_name", "access_token", "app_secret", "verify_token"):
        if not isinstance(getattr(c, name), str) or not getattr(c, name):
            return f"{name} must be a non-empty string"
    if not isinstance(c.control_token, str) or 0 < len(c.control_token) < 16:
        return "control_token must be a string of 16 characters or more"
    if c.webhook_url and not re.fullmatch(r"https?://\S+", c.webhook_url):
        return f"webhook_url must be an http(s) URL or empty, not {c.webhook_url!r}"
    if c.webhook_ca_file is not None and not isinstance(c.webhook_ca_file, str):
        return "webhook_ca_file must be a path string or null"
    if not re.fullmatch(r"v\d+\.\d+", str(c.api_version)):
        return f"api_version must look like v25.0, not {c.api_version!r}"
    if type(c.throughput_mps) is not int or not 1 <= c.throughput_mps <= 1000:
        return "throughput_mps must be a whole number from 1 to 1000"
    if c.messaging_limit not in MESSAGING_LIMITS or type(c.messaging_limit) is bool:
        return "messaging_limit must be one of 250, 2000, 10000, 100000 or null (unlimited)"
    if c.window_failure not in WINDOW_FAILURES:
        return "window_failure must be one of async, sync"
    if type(c.retry_max_attempts) is not int or not 1 <= c.retry_max_attempts <= 100:
        return "retry_max_attempts must be a whole number from 1 to 100"
    for name in ("retry_base_seconds", "auto_deliver_seconds", "fault_timeout_seconds",
                 "webhook_timeout_seconds"):
        value = getattr(c, name)
        if type(value) not in (int, float) or value < 0:
            return f"{name} must be a number of seconds, 0 or more"
    latency = c.latency_ms
    if (not isinstance(latency, (tuple, list)) or len(latency) != 2
            or not all(type(v) is int and 0 <= v <= 60_000 for v in latency)
            or latency[0] > latency[1]):
        return "latency_ms must be [low, high], whole milliseconds from 0 to 60000, low first"
    if type(c.server_threads) is not int or not 1 <= c.server_threads <= 1024:
        return "server_threads must be a whole number from 1 to 1024"
    cap = c.marketing_cap_per_day
    if cap is not None and (type(cap) is not int or cap < 1):
        return "marketing_cap_per_day must be a whole number from 1, or null (no cap)"
    if not isinstance(c.templates, (tuple, list)):
        return "templates must be a list of template objects"
    if not isinstance(c.more_numbers, (tuple, list)):
        return "more_numbers must be a list of numbers"
    seen = {c.phone_number_id}
    for n in c.more_numbers:
        if not isinstance(n, Mapping) or not {"phone_number_id", "display_phone_number",
                                              "verified_name"} <= set(n) <= {
                "phone_number_id", "display_phone_number", "verified_name", "waba_id"}:
            return ("each of more_numbers must hold phone_number_id, display_phone_number "
                    "and verified_name, and may hold waba_id")
        if not all(isinstance(n[k], str) and n[k].isdigit()
                   for k in ("phone_number_id", "display_phone_number", "waba_id") if k in n) \
                or not isinstance(n["verified_name"], str) or not n["verified_name"]:
            return "more_numbers: ids are strings of digits and verified_name is not empty"
        if n["phone_number_id"] in seen:
            return f"more_numbers: phone_number_id {n['phone_number_id']} appears twice"
        seen.add(n["phone_number_id"])
    return None


def new_config(webhook_url: str = "", webhook_ca_file: str | Path | None = None,
               **overrides: Any) -> SimulatorConfig:
    """A fresh business with random ids and secrets: nothing guessable, nothing shared."""
    overrides.setdefault("control_token", new_control_token())
    return SimulatorConfig(
        phone_number_id=_digits(15), waba_id=_digits(15),
        display_phone_number="6281100000000", business_name="Toko Gembok (simulator)",
        access_token="EAAG" + secrets.token_urlsafe(48), app_secret=secrets.token_hex(16),
        verify_token=secrets.token_urlsafe(24), webhook_url=webhook_url,
        webhook_ca_file=str(webhook_ca_file) if webhook_ca_file else None, **overrides)


def new_control_token() -> str:
    return secrets.token_urlsafe(32)


def _digits(n: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(n - 1))


def load_config(path: Path) -> SimulatorConfig:
    """Reads and checks the config file; any problem is one `SimulatorConfigError` line."""
    try:
        st = path.stat()
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SimulatorConfigError(
                f"{path}: permissions {stat.S_IMODE(st.st_mode):04o} are too open: the file "
                f"holds the access token and app secret; run chmod 600 {path}")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SimulatorConfigError(f"{path}: no such simulator config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulatorConfigError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SimulatorConfigError(f"{path}: not valid JSON: {exc}") from None
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: Any, source: str = "simulator config") -> SimulatorConfig:
    if not isinstance(raw, Mapping):
        raise SimulatorConfigError(f"{source}: must hold one JSON object")
    known = {f.name for f in dataclasses.fields(SimulatorConfig)}
    for key in raw:
        if key not in known:
            raise SimulatorConfigError(
                f"{source}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    values = dict(raw)
    if "templates" in values:
        if not isinstance(values["templates"], list):
            raise SimulatorConfigError(f"{source}: templates must be a list")
        values["templates"] = tuple(values["templates"])
    if "more_numbers" in values:
        if not isinstance(values["more_numbers"], list):
            raise SimulatorConfigError(f"{source}: more_numbers must be a list")
        values["more_numbers"] = tuple(values["more_numbers"])
    try:
        return SimulatorConfig(**values)
    except TypeError as exc:  # a required key is missing
        raise SimulatorConfigError(f"{source}: {exc}") from None
    except SimulatorConfigError as exc:
        raise SimulatorConfigError(f"{source}: {exc.problem}", exc.problem) from None


def config_to_dict(config: SimulatorConfig) -> dict[str, Any]:
    out = dataclasses.asdict(config)
    out["templates"] = list(config.templates)
    out["more_numbers"] = [dict(n) for n in config.more_numbers]
    return out


def write_config(path: Path, config: SimulatorConfig) -> None:
    """Writes 0600 atomically (temp, fsync, rename): a crash never leaves half a secret."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = json.dumps(config_to_dict(config), indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, data.encode("utf-8"), mode=0o600)


def config_path(env: Mapping[str, str], data_dir: Path) -> Path:
    """Where `python -m simulator` looks: $GEMBOK_SIMULATOR_CONFIG or var/."""
    value = env.get(CONFIG_ENV)
    return Path(value) if value else data_dir / "simulator" / "config.json"


def ensure_config(path: Path, webhook_url: str, webhook_ca_file: Path | None) -> SimulatorConfig:
    """Loads the config, creating it first on a fresh box so `gembok run` works out of the box.

    A file from before the control API needed a token gets one (after the strict load, so
    a file that others can read is still refused, never silently re-moded).
    """
    if not path.exists():
        write_config(path, new_config(webhook_url, webhook_ca_file))
    config = load_config(path)
    if not config.control_token:
        config = dataclasses.replace(config, control_token=new_control_token())
        write_config(path, config)
    return config


__all__ = ["CONFIG_ENV", "SimulatorConfig", "SimulatorConfigError", "config_from_dict",
           "config_path", "config_to_dict", "ensure_config", "load_config", "new_config",
           "new_control_token", "write_config"]
