"""Provides a faithful local stand-in for Meta's WhatsApp Cloud API (Graph API) and its webhooks.

Public entry points: `create_simulator` (the WSGI app factory) and the config helpers
`SimulatorConfig`, `new_config`, `load_config`, `write_config`.
"""

from simulator.app import Simulator, create_simulator
from simulator.config import (
    SimulatorConfig,
    SimulatorConfigError,
    load_config,
    new_config,
    write_config,
)

__all__ = ["Simulator", "SimulatorConfig", "SimulatorConfigError", "create_simulator",
           "load_config", "new_config", "write_config"]
