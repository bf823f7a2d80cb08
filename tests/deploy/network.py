"""Provides the deploy tests' two networks: the office LAN and "the internet".

Both are network namespaces, veth pairs and a bridge the test makes itself; the host
changes nothing else (no forwarding, no NAT, its own firewall untouched):
    host  10.213.0.1 (dt-br0)  <- LAN ->  10.213.0.2 (host0)  box
                                      ->  10.213.0.3 (host0)  second box (two-host layout)
    "internet" netns dt-inet 10.213.1.1 (inet0) -> 10.213.1.2 (wan0)  box
The host plays a staff PC and the Ansible controller; dt-inet plays Meta (10.213.1.1, its
first address) and everyone else: the addresses of a siege (10.213.1.10 and on) are more
addresses of inet0, so the box sees each as a different client.
"""

from __future__ import annotations

import subprocess

LAN = "10.213.0.0/24"
HOST_IP, BOX_IP, BACK_IP = "10.213.0.1", "10.213.0.2", "10.213.0.3"
INTERNET_IP, BOX_WAN_IP = "10.213.1.1", "10.213.1.2"
BOX_NS, BACK_NS, INTERNET_NS, BRIDGE = "dt-gembok", "dt-back", "dt-inet", "dt-br0"
LAN_LEGS = {BOX_NS: ("dt-h0", BOX_IP), BACK_NS: ("dt-h1", BACK_IP)}  # host's end, box's address
ATTACKERS = [f"10.213.1.{n}" for n in range(10, 30)]  # twenty clients, one siege
GREEDY = "10.213.1.30"  # one client that wants more than its share


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def up() -> None:
    down()  # whatever a killed run left behind
    _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for ns, (host_end, address) in LAN_LEGS.items():
        _ip("netns", "add", ns)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", "host0", "netns", ns)
        _ip("link", "set", host_end, "master", BRIDGE)
        _ip("link", "set", host_end, "up")
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "host0")
        _ip("-n", ns, "link", "set", "host0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")
    _ip("netns", "add", INTERNET_NS)
    _ip("-n", INTERNET_NS, "link", "add", "inet0", "type", "veth", "peer", "name", "wan0",
        "netns", BOX_NS)
    _ip("-n", INTERNET_NS, "addr", "add", f"{INTERNET_IP}/24", "dev", "inet0")
    for address in (*ATTACKERS, GREEDY):
        _ip("-n", INTERNET_NS, "addr", "add", f"{address}/24", "dev", "inet0")
    _ip("-n", INTERNET_NS, "link", "set", "inet0", "up")
    _ip("-n", INTERNET_NS, "link", "set", "lo", "up")
    _ip("-n", BOX_NS, "addr", "add", f"{BOX_WAN_IP}/24", "dev", "wan0")
    _ip("-n", BOX_NS, "link", "set", "wan0", "up")


def down() -> None:
    # veths first, explicitly: `ip netns del` frees them asynchronously
    for args in (*(["link", "del", end] for end, _ in LAN_LEGS.values()),
                 ["-n", INTERNET_NS, "link", "del", "inet0"], ["link", "del", BRIDGE],
                 *(["netns", "del", ns] for ns in LAN_LEGS), ["netns", "del", INTERNET_NS]):
        subprocess.run(["ip", *args], capture_output=True)


def from_internet(*command: str, input: str | None = None,
                  timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs a host command as a machine on the internet would (inside dt-inet)."""
    return subprocess.run(["ip", "netns", "exec", INTERNET_NS, *command], input=input,
                          text=True, capture_output=True, timeout=timeout)
