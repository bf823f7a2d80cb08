"""Provides the Debian 12 root file system the deploy tests boot: built once, then cached.

debootstrap takes about a minute, so the finished tree is kept (with a `.complete`
marker written last) under pytest's cache dir and booted from copies. Its name carries a
hash of what went into it, so changing the package list builds a new one.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

SUITE = "bookworm"
# What a freshly installed Debian server has, plus what the role would otherwise fetch:
# the container has no route to a package mirror (by design), so the playbook's apt
# step finds everything installed, as on a box provisioned from a local mirror.
PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "python3-apt",
            "python3-venv", "nftables", "iproute2", "ca-certificates", "tzdata", "redis-server",
            "nginx", "libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core",
            "postgresql")  # the store of the two-host layout (off on the other boxes)
HOSTNAME = "gembokbox"


def host_mirror() -> str:
    """The first Debian (not -security) URI of the host's apt sources, deb822 or one-line."""
    sources = Path("/etc/apt/sources.list.d")
    files = [*sorted(sources.glob("*.sources")), Path("/etc/apt/sources.list"),
             *sorted(sources.glob("*.list"))]
    for f in files:
        if f.exists():
            for uri in re.findall(r"^\s*(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+)",
                                  f.read_text(), re.M):
                if uri.rstrip("/").endswith("/debian"):
                    return uri
    raise RuntimeError("no Debian mirror in the host's apt sources")


def cached_rootfs(cache: Path) -> Path:
    """The finished root file system, built now if the cache has none."""
    key = hashlib.sha256(f"{SUITE} {' '.join(PACKAGES)} {HOSTNAME}".encode()).hexdigest()[:12]
    root = cache / f"rootfs-{key}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    done = subprocess.run(["debootstrap", "--variant=minbase",
                           f"--include={','.join(PACKAGES)}", SUITE, str(root), host_mirror()],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"debootstrap failed ({done.returncode}):\n{done.stdout[-2000:]}"
                           f"\n{done.stderr[-2000:]}")
    (root / "etc/hostname").write_text(f"{HOSTNAME}\n")
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {HOSTNAME}\n")
    (root / ".complete").touch()
    return root


def writable_copy(root: Path, target: Path, public_key: Path, *, hostname: str = HOSTNAME
                  ) -> Path:
    """A box of its own to install on and reboot (an overlay would forget it all at exit).

    PostgreSQL and Redis are in the cached tree for the boxes that hold the store and the
    queues; neither starts on any box by itself (their roles start them where they belong,
    and the redis role masks Debian's own unit first)."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(root), str(target)], check=True)
    for service in ("postgresql", "redis-server"):  # installed, never started by itself
        (target / f"etc/systemd/system/multi-user.target.wants/{service}.service").unlink(
            missing_ok=True)
    if hostname != HOSTNAME:
        (target / "etc/hostname").write_text(f"{hostname}\n")
        (target / "etc/hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n")
    ssh = target / "root/.ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(public_key, ssh / "authorized_keys")
    (ssh / "authorized_keys").chmod(0o600)
    return target
