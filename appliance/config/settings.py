"""Provides `Settings`, the whole configuration, and where its files lie under the data dir.

One frozen object, validated once at start and passed explicitly: no process reads a global.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from appliance.config import checks
from appliance.config.sections import (
    AlertSettings,
    AuthSettings,
    BackupSettings,
    BroadcastSettings,
    InboxSettings,
    PrivacySettings,
    RedisSettings,
    SimulatorSettings,
    SmtpSettings,
    StoreSettings,
    TlsSettings,
    WebhookSettings,
    WebSettings,
    WhatsAppSettings,
    WorkerSettings,
    setting,
)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, validated once; passed explicitly, never read from globals."""

    data_dir: Path = setting(Path("var"), "Where the database, keyring and run files live.")
    master_key_file: Path | None = setting(
        None, "Master key file (default: $CREDENTIALS_DIRECTORY/master.key under systemd, "
        "else <data_dir>/master.key).")
    log_level: str = setting("info", "Log verbosity.",
                             check=checks.one_of("debug", "info", "warning", "error"))
    timezone: str = setting("Asia/Jakarta", "Time zone for dates shown to staff.",
                            check=checks.timezone)
    region: str = setting("ID", "Default region for phone numbers written without +country.",
                          check=checks.region)
    web: WebSettings = field(default_factory=WebSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    broadcast: BroadcastSettings = field(default_factory=BroadcastSettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
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
