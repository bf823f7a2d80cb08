"""Provides `python -m simulator`: the simulator under gunicorn.

One worker only: the simulated customers, messages and queues live in that process's
memory. The config is read (and on a fresh box created) in the master, so a bad file
stops the start with one line instead of a crashing worker.
"""

from __future__ import annotations

import os
import sys

from appliance.config import load_settings
from appliance.errors import GembokError
from appliance.wsgi_server import Listener, serve
from simulator.access import simulator_url
from simulator.app import Simulator, load_default_config
from simulator.config import CONFIG_ENV


def main(*, announce: bool = False) -> None:
    """Serves until stopped; `announce` prints the phone page's link (`gembok simulator`)."""
    try:
        settings = load_settings({k: v for k, v in os.environ.items() if k != CONFIG_ENV})
        config = load_default_config()
        if announce:
            print(f"A customer's phone (simulator): {simulator_url(settings)}/_sim/phone"
                  f"#t={config.control_token}", flush=True)

        def factory() -> Simulator:
            return Simulator(config, listen_host=settings.simulator.host,
                             office_zone=settings.timezone)

        serve(factory, Listener("gembok-simulator", settings.simulator.host,
                                settings.simulator.port, workers=1,
                                threads=config.server_threads))
    except GembokError as exc:
        print(f"gembok: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
