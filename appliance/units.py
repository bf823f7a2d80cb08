"""Provides the production systemd units: their names, and their states where systemd runs them.

On an installed box each process of the quick start's supervisor is a unit of its own
(`systemd/` in the repository), grouped by `gembok.target`. Reading their states goes
through `systemctl show`, which any user may run, so the CLI, the TUI and `gembok doctor`
see the same thing whoever runs them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import GembokError

# Redis last: it holds row ids only, and the appliance is "stopped" without it running.
UNITS = ("gembok-web", "gembok-webhook", "gembok-inbox-writer", "gembok-worker",
         "gembok-scheduler", "gembok-redis")
TARGET = "gembok.target"
UNIT_DIR = Path("/etc/systemd/system")


@dataclass(frozen=True)
class UnitState:
    name: str
    active: bool
    detail: str  # "active (running)", "failed (failed)", ...


class UnitsUnknown(GembokError):
    """Gembok's units are installed, but systemd cannot say whether they run.

    Callers fail closed on it: a restore must never go ahead on a guess.
    """


def installed() -> bool:
    """Whether this box runs Gembok under systemd (the Ansible install put the target here)."""
    return (UNIT_DIR / TARGET).exists()


def unit_states() -> list[UnitState]:
    """The states of the units systemd knows; empty on a laptop or in a container without
    them; UnitsUnknown where they are installed but systemd does not answer."""
    done = None
    if shutil.which("systemctl") is not None:
        try:
            done = subprocess.run(["systemctl", "show",
                                   "--property=Id,LoadState,ActiveState,SubState",
                                   *[f"{u}.service" for u in UNITS]],
                                  capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            done = None
    if done is None or done.returncode != 0:
        if installed():
            why = done.stderr.strip().splitlines()[-1] if done and done.stderr.strip() else \
                "systemctl is missing or timed out"
            raise UnitsUnknown(f"Gembok's units are installed but systemd does not say whether "
                               f"they run ({why}): is the system bus (dbus) running?")
        return []
    out = []
    for block in done.stdout.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if fields.get("LoadState") != "loaded":
            continue
        out.append(UnitState(fields["Id"].removesuffix(".service"),
                             fields.get("ActiveState") == "active",
                             f"{fields.get('ActiveState')} ({fields.get('SubState')})"))
    return out


def running_units() -> list[str]:
    """Gembok's own units that are up (Redis aside): the appliance is serving if any is."""
    return [u.name for u in unit_states()
            if u.name != "gembok-redis" and u.detail.split()[0] in ("active", "activating",
                                                                    "reloading", "deactivating")]
