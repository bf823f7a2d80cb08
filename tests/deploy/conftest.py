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
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import CI
from tests.deploy import network
from tests.deploy.container import Box
from tests.deploy.playbook import Playbook, Run, one_box, two_hosts
from tests.deploy.rootfs import HOSTNAME, cached_rootfs, writable_copy

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


@contextmanager
def booted(cache: Path, layout: dict[str, dict[str, str]]) -> Iterator[list[Box]]:
    """Freshly booted copies of the cached Debian tree, on the test's own networks: one box
    per entry of `layout` (name -> its LAN address and network namespace), powered off on
    leaving."""
    key = cache / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
    started = time.monotonic()
    cold = not any((p / ".complete").exists() for p in cache.glob("rootfs-*"))
    root = cached_rootfs(cache)
    figure(f"Debian 12 root file system: {time.monotonic() - started:.1f} s "
           f"({'debootstrap, cold' if cold else 'cached'})")
    network.up()
    boxes = [Box(writable_copy(root, cache / name, Path(f"{key}.pub"), hostname=name), key,
                 cache / f"console-{name}.log", address=where["address"],
                 netns=where["netns"], name=name) for name, where in layout.items()]
    try:
        for the_box in boxes:
            figure(f"{the_box.name}: boot to SSH and `is-system-running`: "
                   f"{the_box.boot():.1f} s")
        yield boxes
    finally:
        for the_box in boxes:
            journal = cache / f"journal-{the_box.name}.log"
            try:  # Gembok's own log of the session, for whoever reads a failure later
                journal.write_text(the_box.ssh("journalctl -u 'gembok-*' -u 'postgresql*' "
                                               "--no-pager", check=False, timeout=60).stdout)
            except Exception as exc:  # the box may be down already: the log is a courtesy
                journal.write_text(f"no journal: {exc}\n")
            the_box.power_off()
            shutil.rmtree(the_box.root, ignore_errors=True)
        network.down()
        figure(f"the whole deploy story of {', '.join(layout)}, root file system to "
               f"power-off: {time.monotonic() - started:.0f} s")


@pytest.fixture(scope="module")
def box(deploy_cache) -> Iterator[Box]:
    """One box that runs everything.

    Module-scoped: powered off as soon as the deploy stories are done, so the rest of the
    suite does not share the two cores with an idle appliance in a container."""
    with booted(deploy_cache, {HOSTNAME: {"address": network.BOX_IP,
                                          "netns": network.BOX_NS}}) as boxes:
        yield boxes[0]


@pytest.fixture(scope="module")
def front_and_back(deploy_cache) -> Iterator[tuple[Box, Box]]:
    """The two-host layout: `front` (web UI, webhook, on the LAN and the internet) and
    `back` (workers, PostgreSQL, Redis; on the LAN only)."""
    with booted(deploy_cache, {"front": {"address": network.BOX_IP, "netns": network.BOX_NS},
                               "back": {"address": network.BACK_IP,
                                        "netns": network.BACK_NS}}) as boxes:
        yield boxes[0], boxes[1]


@pytest.fixture(scope="module")
def two_host_playbook(front_and_back, deploy_cache) -> Playbook:
    front, _ = front_and_back
    return Playbook(deploy_cache / "two-hosts",
                    two_hosts(front.key, network.BOX_IP, network.BACK_IP, network.LAN),
                    deploy_cache / "wheelhouse")


@pytest.fixture(scope="module")
def two_hosts_installed(front_and_back, two_host_playbook) -> tuple[Box, Box]:
    """The one install of the two-host stories."""
    run = two_host_playbook.run()
    figure(f"first playbook run on two hosts (install): {run.seconds:.1f} s")
    assert run.failed and not any(run.failed.values()), run.tail(80)
    return front_and_back


@pytest.fixture(scope="module")
def playbook(box, deploy_cache) -> Playbook:
    return Playbook(deploy_cache, one_box(box.key, network.BOX_IP, network.LAN),
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
