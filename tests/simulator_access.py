"""The simulator's control API, as tests and tools reach it on a quick-start box."""

from __future__ import annotations

import httpx

from appliance.config import Settings
from simulator.access import control_headers


def sim_client(settings: Settings) -> httpx.Client:
    """On loopback, with the control token of the quick start's business file."""
    return httpx.Client(base_url=f"http://127.0.0.1:{settings.simulator.port}",
                        headers=control_headers(settings.data_dir), timeout=10)
