"""Provides `setting()` and the frozen dataclass of each section: web, webhook, redis, ...

Each field declares its default, its one-line documentation (the README's table lists it)
and its check; the declarations are all there is, the loader reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.config import checks
from appliance.config.checks import PRIVATE_NETWORKS, Check


def setting(default: Any, doc: str, *, check: Check | None = None, secret: bool = False) -> Any:
    """Declares one setting: its default, its one-line documentation and its check.

    A secret is never shown in a repr and never read from the config file: it is entered
    once with a `gembok ... configure` command and kept sealed in the database; its
    environment variable exists for tests and the quick start only.
    """
    return field(default=default, repr=not secret,
                 metadata={"doc": doc, "check": check, "secret": secret})



@dataclass(frozen=True)
class WebSettings:
    """The staff web UI, for the office LAN only."""

    host: str = setting("127.0.0.1", "Address the web UI listens on.", check=checks.ip_address)
    port: int = setting(8443, "HTTPS port of the web UI.", check=checks.port)
    workers: int = setting(1, "gunicorn worker processes for the web UI.",
                           check=checks.at_least(1, 16))
    threads: int = setting(64, "Threads per web worker (each open live stream holds one: "
                               "keep it above the number of staff online).",
                           check=checks.at_least(1, 512))
    allowed_networks: tuple[str, ...] = setting(
        PRIVATE_NETWORKS, "Source networks the web UI answers (loopback always); others get a "
        "403 before any page code runs.", check=checks.networks)
    socket: Path | None = setting(None, "Unix socket the web UI binds instead of host:port, "
                                        "for a front on this box (nginx on an installed box, "
                                        "which serves web.port itself); none: TCP.",
                                  check=checks.unix_socket)
    behind_proxy: bool = setting(False, "Behind one trusted front that terminates TLS: speak "
                                        "plain HTTP and take the client address and scheme "
                                        "from its X-Forwarded-For and X-Forwarded-Proto alone; "
                                        "false: serve TLS, ignore those headers.")


@dataclass(frozen=True)
class WebhookSettings:
    """The internet-facing listener that serves only Meta's webhook."""

    host: str = setting("127.0.0.1", "Address the webhook listener binds.", check=checks.ip_address)
    port: int = setting(8444, "Port of the webhook listener.", check=checks.port)
    tls: bool = setting(True, "Serve the webhook over TLS (false behind a TLS-terminating proxy).")
    workers: int = setting(2, "gunicorn worker processes for the webhook: two, so that the "
                              "listener uses both cores of a small box (one process is held "
                              "by its GIL: with the worker on, 2 x 16 acknowledged 10-45 % "
                              "more than 1 x 32 behind nginx on 2 cores, issue 11).",
                           check=checks.at_least(1, 16))
    threads: int = setting(16, "Threads per webhook worker (2 x 16: the 32 of before; 2 x 8 "
                                "measured the same behind nginx, which holds slow clients).",
                           check=checks.at_least(1, 256))
    cert_file: Path | None = setting(None, "PEM certificate Meta sees, publicly trusted "
                                           "(default: the web UI's, tls.cert_file).")
    key_file: Path | None = setting(None, "Its private key (default: tls.key_file).")
    socket: Path | None = setting(None, "Unix socket the webhook binds instead of host:port, "
                                        "for a front on this box (which serves webhook.port "
                                        "itself); none: TCP.", check=checks.unix_socket)
    public_url: str = setting("", "The address customers and Meta reach this face at, such "
                                  "as https://wa.example.co.id: Auto Reply's welcome links the "
                                  "privacy notice page there (empty: the notice goes without "
                                  "a link).", check=checks.http_url_or_empty)
    behind_proxy: bool = setting(False, "Behind one trusted front that terminates TLS: speak "
                                        "plain HTTP (webhook.tls then says what the front "
                                        "serves) and take the client address from its "
                                        "X-Forwarded-For alone.")


@dataclass(frozen=True)
class SimulatorSettings:
    """The local stand-in for Meta's Graph API, for the quick start and tests."""

    enabled: bool = setting(True, "Start the Cloud API simulator with `gembok run`.")
    host: str = setting("127.0.0.1", "Address the simulator listens on.", check=checks.ip_address)
    port: int = setting(8445, "Port of the simulator.", check=checks.port)


@dataclass(frozen=True)
class RedisSettings:
    """The task broker. It holds row ids only, never customer data."""

    url: str = setting("", "Broker URL; empty starts an embedded Redis on a unix socket. "
                           "A broker on another host: rediss://user:password@host:port/0.",
                       check=checks.redis_url)
    ca_file: Path | None = setting(None, "PEM file of the CA that signed a remote broker's "
                                         "certificate: TLS with the server's name checked is "
                                         "required to any host but this one.")


@dataclass(frozen=True)
class StoreSettings:
    """Where the data lives. Every customer field is sealed before it leaves Gembok, on
    either engine; the PostgreSQL volume's own encryption (LUKS) is the operator's."""

    url: str = setting("", "Empty: the SQLCipher file in the data dir. "
                           "postgresql://user@host:port/database selects a PostgreSQL server "
                           "(no password in the URL).", check=checks.store_url)
    password_file: Path | None = setting(None, "File holding the PostgreSQL password "
                                               "(mode 0600), e.g. a systemd credential.")
    ca_file: Path | None = setting(None, "PEM file of the CA that signed a remote PostgreSQL "
                                         "server's certificate: TLS with the server's name "
                                         "checked is required to any host but this one.")


@dataclass(frozen=True)
class WorkerSettings:
    """The Dramatiq worker that runs queued jobs."""

    threads: int = setting(8, "Worker threads (one thread drained only ~500 jobs/s; webhook "
                              "batches take the write lock in turn, so 2, 4 and 8 ingest "
                              "alike, and the rest serve replies and media downloads).",
                           check=checks.at_least(1, 64))


@dataclass(frozen=True)
class BroadcastSettings:
    """Campaigns: how fast, when not, and which way marketing goes."""

    throughput: int = setting(80, "Messages per second the number may send (Meta: 80, or "
                                  "1,000 after the automatic upgrade; 20 for coexistence).",
                              check=checks.at_least(1, 1000))
    quiet_start: str = setting("21:00", "Office time from which campaigns hold (a campaign "
                                        "may set its own).", check=checks.clock_time)
    quiet_end: str = setting("08:00", "Office time campaigns resume.", check=checks.clock_time)
    marketing_api: bool = setting(True, "Send MARKETING templates through Meta's Marketing "
                                        "Messages API (false: through /messages, as before).")
    fallback: bool = setting(True, "When the Marketing Messages API cannot take a message "
                                   "(template not ready, 134101; terms not accepted), send "
                                   "it through /messages instead of waiting.")
    in_flight: int = setting(300, "Calls to Meta in flight at once per campaign (1,000/s x "
                                  "Meta's 100-300 ms).", check=checks.at_least(1, 2000))
    http_client: str = setting("aiohttp", "HTTP client campaigns send with (bench/broadcast.py "
                                          "compares them).",
                               check=checks.one_of("aiohttp", "httpx"))


@dataclass(frozen=True)
class PrivacySettings:
    """UU PDP: the DPO's reminders, how long an export waits, the sector's minimum."""

    reminder_hours: int = setting(24, "E-mail the DPOs when a data-subject request has this many "
                                      "hours left of its 3 x 24.", check=checks.at_least(1, 71))
    export_keep_hours: int = setting(72, "Hours an encrypted export waits to be downloaded "
                                         "before the retention job deletes it.",
                                     check=checks.at_least(1, 720))
    sector_minimum_days: int = setting(0, "Fewest days the law of the business's sector makes it "
                                          "keep records (e.g. 1825: five years under "
                                          "Permenkominfo 20/2016 for some operators); a "
                                          "division's retention below it is warned about, "
                                          "never raised silently. 0: none.",
                                       check=checks.at_least(0, 36500))


@dataclass(frozen=True)
class WhatsAppSettings:
    """How Gembok reaches the Cloud API."""

    api_base_url: str = setting("", "Graph API base URL, https://graph.facebook.com in "
                                    "production; empty means the simulator when it is on.",
                                check=checks.http_url_or_empty)
    api_version: str = setting("v25.0", "Graph API version used in every call.",
                               check=checks.graph_version)
    phone_number_id: str = setting("", "The business number's id in the Cloud API.",
                                   check=checks.digits_or_empty)
    waba_id: str = setting("", "The WhatsApp Business Account id.", check=checks.digits_or_empty)
    access_token: str = setting("", "Bearer token for the Graph API (secret).", secret=True)
    app_secret: str = setting("", "App secret that signs webhooks (secret).", secret=True)
    verify_token: str = setting("", "Token of the webhook verification handshake (secret).",
                                secret=True)
    media_max_bytes: int = setting(25 * 2**20, "Largest attachment Gembok downloads and keeps.",
                                   check=checks.at_least(2**20, 100 * 2**20))
    sweep_after_seconds: int = setting(30, "Re-queue a stored webhook not processed after this.",
                                       check=checks.at_least(5, 3600))


@dataclass(frozen=True)
class InboxSettings:
    """The Chatroom."""

    default_division: str = setting("", "Division new conversations land in (empty: the "
                                        "first division made).")
    failed_days: int = setting(7, "Days a webhook that could not be applied is kept (sealed) "
                                  "for a look, then purged; applied ones keep no body at all.",
                               check=checks.at_least(1, 30))


@dataclass(frozen=True)
class AuthSettings:
    """Staff sign-in and sessions."""

    idle_minutes: int = setting(30, "Sign out after this many minutes without a request of "
                                    "the user's own (not the live stream, nor the page's "
                                    "refreshes after it).",
                                check=checks.at_least(5, 24 * 60))
    absolute_hours: int = setting(12, "Sign out this many hours after signing in, whatever.",
                                  check=checks.at_least(1, 24 * 7))
    totp_for_all: bool = setting(False, "Require the second factor of agents too (admins and "
                                        "supervisors always need it).")


@dataclass(frozen=True)
class SmtpSettings:
    """Outgoing e-mail for alerts and new-device notices."""

    host: str = setting("", "SMTP server; empty disables e-mail.", check=checks.hostname)
    port: int = setting(587, "SMTP port.", check=checks.port)
    starttls: bool = setting(True, "Require STARTTLS before sending (port 587).")
    username: str = setting("", "SMTP user name; empty for none.")
    password: str = setting("", "SMTP password (secret).", secret=True)
    sender: str = setting("gembok@localhost", "From address of Gembok's e-mails.")
    ca_file: Path | None = setting(None, "PEM file of the CA that signed the SMTP server's "
                                         "certificate, when it is a private one.")
    timeout: int = setting(10, "Seconds to wait for the SMTP server.",
                           check=checks.at_least(1, 120))


@dataclass(frozen=True)
class AlertSettings:
    """Who hears about the WhatsApp number's health, by e-mail and by WhatsApp."""

    emails: tuple[str, ...] = setting((), "Alert e-mail recipients (comma-separated in the "
                                          "variable).", check=checks.emails)
    phones: tuple[str, ...] = setting((), "Admins' WhatsApp numbers for alerts (E.164).",
                                      check=checks.phones)
    whatsapp_template: str = setting("gembok_alert", "Approved template (one body parameter) "
                                                     "that carries alerts by WhatsApp.")
    template_language: str = setting("en_US", "Language code of that template.")


@dataclass(frozen=True)
class BackupSettings:
    """Nightly backups on the box (`gembok backup create` makes one at any time)."""

    daily_at: str = setting("02:00", "Office time (`timezone`) of the nightly backup; a box "
                                     "that was off then makes it when it starts; empty: none.",
                            check=checks.clock_time)
    keep: int = setting(7, "Nightly backups kept; older nightly ones are deleted (manual and "
                           "pre-upgrade backups never are).", check=checks.at_least(1, 365))


@dataclass(frozen=True)
class TlsSettings:
    """The web UI's certificate; a self-signed one is made on first start when none is given."""

    cert_file: Path | None = setting(None, "PEM certificate (default: <data_dir>/tls/cert.pem).")
    key_file: Path | None = setting(None, "PEM private key (default: <data_dir>/tls/key.pem).")

