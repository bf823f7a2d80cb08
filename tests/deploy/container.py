"""Provides `Box`: a Debian 12 booted by systemd-nspawn with systemd as PID 1, reached by SSH.

It is a real server as far as Ansible and systemd can tell: its own init, journal,
credentials, nftables and network, reached over SSH on the LAN address. A reboot inside
ends nspawn (exit 133), so `reboot()` boots the same tree again, as the firmware would.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.deploy.network import BOX_IP, BOX_NS
from tests.deploy.rootfs import HOSTNAME

BOOT_TIMEOUT = 90.0
REBOOTED = 133  # nspawn's exit code when the container asked for a reboot


class Box:
    def __init__(self, root: Path, key: Path, console: Path, *, address: str = BOX_IP,
                 netns: str = BOX_NS, name: str = HOSTNAME) -> None:
        self.root = root
        self.key = key
        self.console = console
        self.address, self.netns, self.name = address, netns, name
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ssh_command(self) -> list[str]:
        return ["ssh", "-i", str(self.key), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", f"root@{self.address}"]

    def boot(self) -> float:
        """Starts the container and waits for systemd to finish booting; returns seconds."""
        started = time.monotonic()
        with self.console.open("ab") as log:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "-D", str(self.root), "-b", "--register=no", "--keep-unit",
                 f"--network-namespace-path=/run/netns/{self.netns}",
                 "--capability=CAP_NET_ADMIN",  # nftables inside (its netns is its own)
                 "--console=read-only", "-M", self.name],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # a Ctrl-C on pytest leaves the orderly stop to us
        deadline = started + BOOT_TIMEOUT
        while subprocess.run([*self.ssh_command, "true"], capture_output=True).returncode:
            assert self.proc.poll() is None, f"nspawn exited: {self.console_tail()}"
            assert time.monotonic() < deadline, f"no SSH after boot: {self.console_tail()}"
            time.sleep(0.2)
        self.ssh("systemctl is-system-running --wait", check=False, timeout=BOOT_TIMEOUT)
        return time.monotonic() - started

    def ssh(self, command: str, *, input: str | None = None, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.ssh_command, command], input=input, text=True,
                              capture_output=True, timeout=timeout)
        if check and done.returncode:
            raise AssertionError(f"on the box, `{command}` exited {done.returncode}:\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def reboot(self) -> float:
        """Reboots from inside, then powers the same tree on again; returns seconds to up."""
        assert self.proc is not None
        started = time.monotonic()
        self.ssh("systemctl reboot", check=False)
        code = self.proc.wait(timeout=BOOT_TIMEOUT)
        assert code == REBOOTED, f"nspawn exit code {code}: {self.console_tail()}"
        self.boot()
        return time.monotonic() - started

    def power_off(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # nspawn -> an orderly poweroff inside
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def console_tail(self) -> str:
        return self.console.read_text(errors="replace")[-3000:]
