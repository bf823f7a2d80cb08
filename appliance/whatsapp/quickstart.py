"""Provides `wire_simulator`: the quick start's WhatsApp, the simulator and Gembok as one pair.

On a fresh box the simulator gets a business of its own (random ids and secrets) and
Gembok gets the same credentials, sealed in its database like an admin's would be, so
`gembok run` works with no Meta account. The simulator's business file (0600) also holds
the control token that its `/_sim/` API requires (see simulator/access.py; a file from
before the token gets one here). Later starts keep all of it and only re-point the
simulator's webhook at the listener if its port moved. A box whose credentials came
from an admin (or that talks to Meta) is left alone.
"""

from __future__ import annotations

import dataclasses

from appliance.runtime import Runtime
from appliance.whatsapp.credentials import load_credentials, store_secrets
from simulator.config import ensure_config, new_config, write_config


def wire_simulator(rt: Runtime) -> str | None:
    """Returns what it did, in one line for the start-up output, or None."""
    settings = rt.settings
    if not settings.simulator.enabled or settings.whatsapp.api_base_url:
        return None
    path = settings.data_dir / "simulator" / "config.json"
    if not path.exists():
        creds = load_credentials(rt)
        if creds.access_token or creds.app_secret:
            return None  # configured by an admin: not ours to overwrite
        config = new_config(settings.webhook_url, settings.tls_cert_path)
        write_config(path, config)
        store_secrets(rt, actor="system", access_token=config.access_token,
                      app_secret=config.app_secret, verify_token=config.verify_token,
                      phone_number_id=config.phone_number_id, waba_id=config.waba_id)
        return "created a simulated WhatsApp business and gave Gembok its credentials"
    config = ensure_config(path, settings.webhook_url, settings.tls_cert_path)
    if config.webhook_url != settings.webhook_url:
        write_config(path, dataclasses.replace(config, webhook_url=settings.webhook_url,
                                               webhook_ca_file=str(settings.tls_cert_path)))
        return "pointed the simulator's webhooks at the listener's new address"
    return None
