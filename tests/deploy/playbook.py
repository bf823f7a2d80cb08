"""Provides `Playbook`: ansible/site.yml run against the box over SSH, as an IT admin runs it.

The inventory is the test's own (the box's LAN address, its key, the LAN range); the
playbook, roles, config and units are the repository's, untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPOSITORY / "ansible"
SOURCES = ("pyproject.toml", "README.md", "appliance", "webui", "tui")  # what the wheel holds
_RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                    re.M)


@dataclass(frozen=True)
class Run:
    output: str
    seconds: float
    changed: dict[str, int]  # host -> tasks changed
    failed: dict[str, int]

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def snapshot(target: Path) -> Path:
    """The checkout's sources as they are now: the runs of one session install the same
    code, even while someone edits the working tree."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in SOURCES:
        item = REPOSITORY / name
        if item.is_dir():
            shutil.copytree(item, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, target / name)
    return target


def _host(key: Path, address: str) -> dict[str, str]:
    return {"ansible_host": address, "ansible_user": "root",
            "ansible_ssh_private_key_file": str(key),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                                       "-o UserKnownHostsFile=/dev/null",
            "ansible_python_interpreter": "/usr/bin/python3"}


def _settings(lan: str) -> dict[str, object]:
    return {"gembok__lan_networks": [lan],
            "gembok__whatsapp_phone_number_id": "106540352242922"}


def one_box(key: Path, box_ip: str, lan: str) -> dict[str, object]:
    """The inventory of README's quick path: one host in group gembok runs everything."""
    return {"gembok": {"hosts": {"box": _host(key, box_ip)}, "vars": _settings(lan)}}


def two_hosts(key: Path, front_ip: str, back_ip: str, lan: str) -> dict[str, object]:
    """inventory.multi-host.example.yml's layout on two hosts: the faces on one, the
    workers, the store and the broker on the other."""
    hosts = {"front": _host(key, front_ip), "back": _host(key, back_ip)}
    return {"gembok": {"children": {"gembok_web": {"hosts": {"front": hosts["front"]}},
                                    "gembok_webhook": {"hosts": {"front": {}}},
                                    "gembok_worker": {"hosts": {"back": hosts["back"]}}},
                       "vars": _settings(lan)},
            "gembok_db": {"hosts": {"back": {}}},
            "gembok_broker": {"hosts": {"back": {}}}}


class Playbook:
    def __init__(self, work: Path, inventory: dict[str, object], wheelhouse: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.checkout = snapshot(work / "checkout")
        self.inventory = work / "inventory.yml"
        self.inventory.write_text(json.dumps(inventory, indent=2))
        self.wheelhouse = wheelhouse
        self.runs = 0
        self.installs = {"gembok__checkout": str(self.checkout),
                         "gembok__wheelhouse": str(wheelhouse)}

    def run(self, **extra_vars: str) -> Run:
        """One run; a checkout and wheelhouse given once stay the ones installed after."""
        self.runs += 1
        self.installs.update({k: v for k, v in extra_vars.items()
                              if k in ("gembok__checkout", "gembok__wheelhouse")})
        extra = {**self.installs, **extra_vars}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMBOK_", "ANSIBLE_"))}
        env.update(ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_LOCAL_TEMP=str(self.work / "tmp"),
                   ANSIBLE_HOME=str(self.work / "ansible-home"))
        started = time.monotonic()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(self.inventory),
             "--extra-vars", json.dumps(extra), str(ANSIBLE_DIR / "site.yml")],
            cwd=ANSIBLE_DIR, env=env, text=True, capture_output=True, timeout=1200)
        seconds = time.monotonic() - started
        output = done.stdout + done.stderr
        (self.work / f"playbook-run-{self.runs}.log").write_text(output)
        recap = {m[0]: (int(m[2]), int(m[4]) + int(m[3])) for m in _RECAP.findall(output)}
        return Run(output, seconds, {h: c for h, (c, _) in recap.items()},
                   {h: f for h, (_, f) in recap.items()})
