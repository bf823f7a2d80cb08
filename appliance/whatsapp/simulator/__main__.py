"""Provides `python -m appliance.whatsapp.simulator`: the simulator under gunicorn."""

from __future__ import annotations

import sys

from appliance.config import load_settings
from appliance.errors import GembokError
from appliance.whatsapp.simulator.app import create_simulator
from appliance.wsgi_server import Listener, serve

try:
    settings = load_settings()
    serve(create_simulator, Listener("gembok-simulator", settings.simulator.host,
                                     settings.simulator.port, threads=8))
except GembokError as exc:
    print(f"gembok: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
