"""Provides `Settings`: the appliance's configuration, read from TOML and GEMBOK_* variables.

Parsing is strict, like healthchecks' `envbool`: every value is checked once at start,
and a bad one stops the start with one line naming the key, where the value came from
(file:line or environment variable) and what is allowed. No type guessing, no silent
defaults for secrets, unknown keys are errors (a typo must not silently keep a default).

The package is split on its seams, and every name is re-exported here so that callers
import from `appliance.config` alone: `checks` (what a value may be), `sections` (the
declarations), `settings` (the whole and its file layout), `loading` (TOML and variables).
"""

from __future__ import annotations

from appliance.config.checks import PRIVATE_NETWORKS, Check, ConfigError
from appliance.config.loading import (
    CONFIG_ENV,
    ENV_PREFIX,
    SettingInfo,
    describe,
    load_settings,
)
from appliance.config.sections import (
    AlertSettings,
    AuthSettings,
    BackupSettings,
    BroadcastSettings,
    InboxSettings,
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
from appliance.config.settings import SECTIONS, Settings

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "PRIVATE_NETWORKS",
    "SECTIONS",
    "AlertSettings",
    "AuthSettings",
    "BackupSettings",
    "BroadcastSettings",
    "Check",
    "ConfigError",
    "InboxSettings",
    "RedisSettings",
    "SettingInfo",
    "Settings",
    "SimulatorSettings",
    "SmtpSettings",
    "StoreSettings",
    "TlsSettings",
    "WebSettings",
    "WebhookSettings",
    "WhatsAppSettings",
    "WorkerSettings",
    "describe",
    "load_settings",
    "setting",
]
