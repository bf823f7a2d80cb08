"""Fixtures of the deploy tests: a Debian 12 box booted with systemd, on a LAN and an
"internet" of its own, installed once by ansible/site.yml over SSH.

They need root (systemd-nspawn, network namespaces), debootstrap, systemd-container,
iproute2, openssh-client and netcat (`make test` installs them). Without them the tests
skip, except in CI, where they fail. `pytest -m "not deploy"` leaves them out anyway.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CI
from tests.deploy import network
from tests.deploy.container import Box
from tests.deploy.playbook import Playbook, Run
from tests.deploy.rootfs import cached_rootfs, writable_copy

TOOLS = ("debootstrap", "systemd-nspawn", "ip", "ssh", "ssh-keygen", "nc")
FIGURES: list[str] = []  # printed at the end of the session: times and security scores


def figure(line: str) -> None:
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter):  # pytest's hook name
    if FIGURES:
        terminalreporter.section("deploy test figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the deploy tests need root (systemd-nspawn, network namespaces)"
    absent = [t for t in TOOLS if shutil.which(t) is None]
    if not (Path(sys.executable).parent / "ansible-playbook").exists():
        absent.append("ansible-playbook (pip install -e '.[dev]')")
    if absent:
        return f"the deploy tests need {', '.join(absent)} (make test installs them)"
    return None


@pytest.fixture(scope="session")
def deploy_cache(request) -> Path:
    reason = _missing()
    if reason:
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(request.config.cache.mkdir("gembok-deploy"))


@pytest.fixture(scope="module")
def box(deploy_cache) -> Iterator[Box]:
    """A freshly booted copy of the cached Debian tree, on the test's own networks.

    Module-scoped: powered off as soon as the deploy stories are done, so the rest of the
    suite does not share the two cores with an idle appliance in a container."""
    key = deploy_cache / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
    started = time.monotonic()
    cold = not any((p / ".complete").exists() for p in deploy_cache.glob("rootfs-*"))
    root = cached_rootfs(deploy_cache)
    figure(f"Debian 12 root file system: {time.monotonic() - started:.1f} s "
           f"({'debootstrap, cold' if cold else 'cached'})")
    tree = writable_copy(root, deploy_cache / "box", Path(f"{key}.pub"))
    network.up()
    the_box = Box(tree, key, deploy_cache / "console.log")
    try:
        figure(f"boot to SSH and `is-system-running`: {the_box.boot():.1f} s")
        yield the_box
    finally:
        try:  # Gembok's own log of the session, for whoever reads a failure later
            (deploy_cache / "journal.log").write_text(the_box.ssh(
                "journalctl -u 'gembok-*' --no-pager", check=False, timeout=60).stdout)
        except Exception as exc:  # the box may be down already: the log is a courtesy
            (deploy_cache / "journal.log").write_text(f"no journal: {exc}\n")
        the_box.power_off()
        network.down()
        shutil.rmtree(tree, ignore_errors=True)
        figure(f"the whole deploy story, root file system to power-off: "
               f"{time.monotonic() - started:.0f} s")


@pytest.fixture(scope="module")
def playbook(box, deploy_cache) -> Playbook:
    return Playbook(deploy_cache, box.key, network.BOX_IP, network.LAN,
                    deploy_cache / "wheelhouse")


@pytest.fixture(scope="module")
def first_run(playbook) -> Run:
    """The one install of the session; every story after it looks at the box it left."""
    cold = not (playbook.wheelhouse / "SHA256SUMS").exists()
    run = playbook.run()
    figure(f"first playbook run (install): {run.seconds:.1f} s"
           f"{', wheelhouse fetched' if cold else ', wheelhouse cached'}")
    return run


@pytest.fixture
def installed(box, first_run) -> Box:
    assert first_run.failed and not any(first_run.failed.values()), first_run.tail()
    return box
