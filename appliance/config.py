"""Provides `Settings`: the appliance's configuration, read from TOML and GEMBOK_* variables.

Parsing is strict, like healthchecks' `envbool`: every value is checked once at start,
and a bad one stops the start with one line naming the key, where the value came from
(file:line or environment variable) and what is allowed. No type guessing, no silent
defaults for secrets, unknown keys are errors (a typo must not silently keep a default).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import GembokError

ENV_PREFIX = "GEMBOK_"
CONFIG_ENV = "GEMBOK_CONFIG"


class ConfigError(GembokError):
    """A setting has a bad value, an unknown name, or the config file cannot be read."""


Check = Callable[[Any], str | None]  # returns what is allowed when the value is refused


def setting(default: Any, doc: str, *, check: Check | None = None, secret: bool = False) -> Any:
    """Declares one setting: its default, its one-line documentation and its check.

    A secret is never shown in a repr and never read from the config file: it is entered
    once with a `gembok ... configure` command and kept sealed in the database; its
    environment variable exists for tests and the quick start only.
    """
    return field(default=default, repr=not secret,
                 metadata={"doc": doc, "check": check, "secret": secret})


def _port(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "a TCP port from 1 to 65535"


def _at_least(low: int, high: int) -> Check:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"a whole number from {low} to {high}"

    return check


def _one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else "one of " + ", ".join(choices)

    return check


def _ip_address(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "an IP address such as 127.0.0.1 or 0.0.0.0"
    return None


def _timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone such as Asia/Jakarta"
    return None


def _clock_time(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value)
    return None if ok else 'a time of day such as "02:00" (24-hour, office time), or empty'


def _region(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Z]{2}", value) else "a two-letter region code such as ID"


def _graph_version(value: str) -> str | None:
    return None if re.fullmatch(r"v\d+\.\d+", value) else "a Graph API version such as v25.0"


def _http_url_or_empty(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value)
    return None if ok else "an http:// or https:// URL without spaces (or empty)"


def _digits_or_empty(value: str) -> str | None:
    return None if re.fullmatch(r"\d{0,32}", value) else "digits only, as Meta shows the id"


def _emails(value: tuple[str, ...]) -> str | None:
    bad = [v for v in value if not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", v)]
    return None if not bad else "e-mail addresses such as it@example.co.id"


def _phones(value: tuple[str, ...]) -> str | None:
    bad = [v for v in value if not re.fullmatch(r"\+\d{8,15}", v.replace(" ", "").replace("-", ""))]
    return None if not bad else "phone numbers with their country code, such as +6281234567890"


def _hostname(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"[A-Za-z0-9.-]{1,253}", value)
    return None if ok else "a host name or IP address (empty: no e-mail)"


def _networks(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return "IP networks such as 192.168.1.0/24 or fd00::/8"
    return None


# The web UI is for the office LAN: the private ranges, until the admin names theirs.
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")


def _redis_url(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"(unix|redis|rediss)://\S+", value)
    return None if ok else 'empty (embedded Redis) or a unix://, redis:// or rediss:// URL'


def _unix_socket(value: Path) -> str | None:
    # sun_path holds 108 bytes with its NUL: a longer path fails deep inside bind()
    ok = len(os.fsencode(value)) <= 107
    return None if ok else "the path of a unix socket, at most 107 bytes long"


@dataclass(frozen=True)
class WebSettings:
    """The staff web UI, for the office LAN only."""

    host: str = setting("127.0.0.1", "Address the web UI listens on.", check=_ip_address)
    port: int = setting(8443, "HTTPS port of the web UI.", check=_port)
    workers: int = setting(1, "gunicorn worker processes for the web UI.", check=_at_least(1, 16))
    threads: int = setting(64, "Threads per web worker (each open live stream holds one: "
                               "keep it above the number of staff online).",
                           check=_at_least(1, 512))
    allowed_networks: tuple[str, ...] = setting(
        PRIVATE_NETWORKS, "Source networks the web UI answers (loopback always); others get a "
        "403 before any page code runs.", check=_networks)
    socket: Path | None = setting(None, "Unix socket the web UI binds instead of host:port, "
                                        "for a front on this box (nginx on an installed box, "
                                        "which serves web.port itself); none: TCP.",
                                  check=_unix_socket)
    behind_proxy: bool = setting(False, "Behind one trusted front that terminates TLS: speak "
                                        "plain HTTP and take the client address and scheme "
                                        "from its X-Forwarded-For and X-Forwarded-Proto alone; "
                                        "false: serve TLS, ignore those headers.")


@dataclass(frozen=True)
class WebhookSettings:
    """The internet-facing listener that serves only Meta's webhook."""

    host: str = setting("127.0.0.1", "Address the webhook listener binds.", check=_ip_address)
    port: int = setting(8444, "Port of the webhook listener.", check=_port)
    tls: bool = setting(True, "Serve the webhook over TLS (false behind a TLS-terminating proxy).")
    workers: int = setting(2, "gunicorn worker processes for the webhook: two, so that the "
                              "listener uses both cores of a small box (one process is held "
                              "by its GIL: with the worker on, 2 x 16 acknowledged 10-45 % "
                              "more than 1 x 32 behind nginx on 2 cores, issue 11).",
                           check=_at_least(1, 16))
    threads: int = setting(16, "Threads per webhook worker (2 x 16: the 32 of before; 2 x 8 "
                                "measured the same behind nginx, which holds slow clients).",
                           check=_at_least(1, 256))
    cert_file: Path | None = setting(None, "PEM certificate Meta sees, publicly trusted "
                                           "(default: the web UI's, tls.cert_file).")
    key_file: Path | None = setting(None, "Its private key (default: tls.key_file).")
    socket: Path | None = setting(None, "Unix socket the webhook binds instead of host:port, "
                                        "for a front on this box (which serves webhook.port "
                                        "itself); none: TCP.", check=_unix_socket)
    behind_proxy: bool = setting(False, "Behind one trusted front that terminates TLS: speak "
                                        "plain HTTP (webhook.tls then says what the front "
                                        "serves) and take the client address from its "
                                        "X-Forwarded-For alone.")


@dataclass(frozen=True)
class SimulatorSettings:
    """The local stand-in for Meta's Graph API, for the quick start and tests."""

    enabled: bool = setting(True, "Start the Cloud API simulator with `gembok run`.")
    host: str = setting("127.0.0.1", "Address the simulator listens on.", check=_ip_address)
    port: int = setting(8445, "Port of the simulator.", check=_port)


@dataclass(frozen=True)
class RedisSettings:
    """The task broker. It holds row ids only, never customer data."""

    url: str = setting("", "Broker URL; empty starts an embedded Redis on a unix socket.",
                       check=_redis_url)


@dataclass(frozen=True)
class WorkerSettings:
    """The Dramatiq worker that runs queued jobs."""

    threads: int = setting(8, "Worker threads (one thread drained only ~500 jobs/s; webhook "
                              "batches take the write lock in turn, so 2, 4 and 8 ingest "
                              "alike, and the rest serve replies and media downloads).",
                           check=_at_least(1, 64))


@dataclass(frozen=True)
class WhatsAppSettings:
    """How Gembok reaches the Cloud API."""

    api_base_url: str = setting("", "Graph API base URL, https://graph.facebook.com in "
                                    "production; empty means the simulator when it is on.",
                                check=_http_url_or_empty)
    api_version: str = setting("v25.0", "Graph API version used in every call.",
                               check=_graph_version)
    phone_number_id: str = setting("", "The business number's id in the Cloud API.",
                                   check=_digits_or_empty)
    waba_id: str = setting("", "The WhatsApp Business Account id.", check=_digits_or_empty)
    access_token: str = setting("", "Bearer token for the Graph API (secret).", secret=True)
    app_secret: str = setting("", "App secret that signs webhooks (secret).", secret=True)
    verify_token: str = setting("", "Token of the webhook verification handshake (secret).",
                                secret=True)
    media_max_bytes: int = setting(25 * 2**20, "Largest attachment Gembok downloads and keeps.",
                                   check=_at_least(2**20, 100 * 2**20))
    sweep_after_seconds: int = setting(30, "Re-queue a stored webhook not processed after this.",
                                       check=_at_least(5, 3600))


@dataclass(frozen=True)
class InboxSettings:
    """The Chatroom."""

    default_division: str = setting("", "Division new conversations land in (empty: the "
                                        "first division made).")
    failed_days: int = setting(7, "Days a webhook that could not be applied is kept (sealed) "
                                  "for a look, then purged; applied ones keep no body at all.",
                               check=_at_least(1, 30))


@dataclass(frozen=True)
class AuthSettings:
    """Staff sign-in and sessions."""

    idle_minutes: int = setting(30, "Sign out after this many minutes without a request of "
                                    "the user's own (not the live stream, nor the page's "
                                    "refreshes after it).",
                                check=_at_least(5, 24 * 60))
    absolute_hours: int = setting(12, "Sign out this many hours after signing in, whatever.",
                                  check=_at_least(1, 24 * 7))
    totp_for_all: bool = setting(False, "Require the second factor of agents too (admins and "
                                        "supervisors always need it).")


@dataclass(frozen=True)
class SmtpSettings:
    """Outgoing e-mail for alerts and new-device notices."""

    host: str = setting("", "SMTP server; empty disables e-mail.", check=_hostname)
    port: int = setting(587, "SMTP port.", check=_port)
    starttls: bool = setting(True, "Require STARTTLS before sending (port 587).")
    username: str = setting("", "SMTP user name; empty for none.")
    password: str = setting("", "SMTP password (secret).", secret=True)
    sender: str = setting("gembok@localhost", "From address of Gembok's e-mails.")
    ca_file: Path | None = setting(None, "PEM file of the CA that signed the SMTP server's "
                                         "certificate, when it is a private one.")
    timeout: int = setting(10, "Seconds to wait for the SMTP server.", check=_at_least(1, 120))


@dataclass(frozen=True)
class AlertSettings:
    """Who hears about the WhatsApp number's health, by e-mail and by WhatsApp."""

    emails: tuple[str, ...] = setting((), "Alert e-mail recipients (comma-separated in the "
                                          "variable).", check=_emails)
    phones: tuple[str, ...] = setting((), "Admins' WhatsApp numbers for alerts (E.164).",
                                      check=_phones)
    whatsapp_template: str = setting("gembok_alert", "Approved template (one body parameter) "
                                                     "that carries alerts by WhatsApp.")
    template_language: str = setting("en_US", "Language code of that template.")


@dataclass(frozen=True)
class BackupSettings:
    """Nightly backups on the box (`gembok backup create` makes one at any time)."""

    daily_at: str = setting("02:00", "Office time (`timezone`) of the nightly backup; a box "
                                     "that was off then makes it when it starts; empty: none.",
                            check=_clock_time)
    keep: int = setting(7, "Nightly backups kept; older nightly ones are deleted (manual and "
                           "pre-upgrade backups never are).", check=_at_least(1, 365))


@dataclass(frozen=True)
class TlsSettings:
    """The web UI's certificate; a self-signed one is made on first start when none is given."""

    cert_file: Path | None = setting(None, "PEM certificate (default: <data_dir>/tls/cert.pem).")
    key_file: Path | None = setting(None, "PEM private key (default: <data_dir>/tls/key.pem).")


@dataclass(frozen=True)
class Settings:
    """Everything configurable, validated once; passed explicitly, never read from globals."""

    data_dir: Path = setting(Path("var"), "Where the database, keyring and run files live.")
    master_key_file: Path | None = setting(
        None, "Master key file (default: $CREDENTIALS_DIRECTORY/master.key under systemd, "
        "else <data_dir>/master.key).")
    log_level: str = setting("info", "Log verbosity.",
                             check=_one_of("debug", "info", "warning", "error"))
    timezone: str = setting("Asia/Jakarta", "Time zone for dates shown to staff.",
                            check=_timezone)
    region: str = setting("ID", "Default region for phone numbers written without +country.",
                          check=_region)
    web: WebSettings = field(default_factory=WebSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    credentials_dir: Path | None = field(default=None, metadata={"internal": True})

    # Files under the data dir. Kept here so that every process agrees on the layout.
    @property
    def db_file(self) -> Path:
        return self.data_dir / "gembok.db"

    @property
    def keyring_file(self) -> Path:
        return self.data_dir / "keyring.json"

    @property
    def audit_head_file(self) -> Path:
        return self.data_dir / "audit.head"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def redis_socket(self) -> Path:
        """Where the embedded Redis listens (no TCP port: only this box's own users reach it)."""
        return self.run_dir / "redis.sock"

    @property
    def graph_base_url(self) -> str:
        """Where the Cloud API is: the setting, else the simulator when it runs, else none."""
        if self.whatsapp.api_base_url:
            return self.whatsapp.api_base_url
        if self.simulator.enabled:
            return f"http://{self.simulator.host}:{self.simulator.port}"
        return ""

    @property
    def webhook_url(self) -> str:
        """The listener's own URL on this box (Meta reaches it through the admin's proxy)."""
        scheme = "https" if self.webhook.tls else "http"
        return f"{scheme}://{self.webhook.host}:{self.webhook.port}/webhooks/whatsapp"

    @property
    def inbox_writer_socket(self) -> Path:
        return self.run_dir / "inbox-writer.sock"

    @property
    def broker_url(self) -> str:
        return self.redis.url or f"unix://{self.redis_socket}"

    @property
    def master_key_path(self) -> Path:
        if self.master_key_file is not None:
            return self.master_key_file
        if self.credentials_dir is not None:
            return self.credentials_dir / "master.key"
        return self.data_dir / "master.key"

    @property
    def tls_cert_path(self) -> Path:
        return self.tls.cert_file or self.data_dir / "tls" / "cert.pem"

    @property
    def tls_key_path(self) -> Path:
        return self.tls.key_file or self.data_dir / "tls" / "key.pem"

    @property
    def webhook_cert_path(self) -> Path:
        """The internet face may carry its own, publicly trusted certificate."""
        return self.webhook.cert_file or self.tls_cert_path

    @property
    def webhook_key_path(self) -> Path:
        return self.webhook.key_file or self.tls_key_path


SECTIONS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in dataclasses.fields(Settings)
    if f.default_factory is not dataclasses.MISSING
}


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
        parsed = _parse(key, value, source, spec)
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


def _parse(key: str, value: Any, source: str, spec: dataclasses.Field[Any]) -> Any:
    kind = str(spec.type)
    from_env = source.startswith("environment")
    shown = "<hidden>" if spec.metadata.get("secret") else repr(value)

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
