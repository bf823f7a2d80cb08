"""Provides what the stories ask of the box from outside: a page over TLS from the LAN, a
port probe and a signed webhook from the internet, the idle and slow clients of a siege,
and a look into the database as the service user (with the sealed master key, as the
services get it)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509

from appliance.whatsapp.signature import sign
from tests.deploy import network
from tests.deploy.container import Box

# What every Gembok unit gets, for a one-off process on the box (the `gembok` wrapper
# passes the same; the tests need a plain Python, not the command).
AS_SERVICE = ("systemd-run --quiet --wait --collect --pipe --service-type=exec "
              "--property=User=gembok --property=Group=gembok "
              "--property=EnvironmentFile=/etc/gembok/gembok.env "
              "--property=LoadCredentialEncrypted=master.key:"
              "/etc/credstore.encrypted/gembok-master.key "
              "--setenv=GEMBOK_CONFIG=/etc/gembok/gembok.toml ")

_READ_MESSAGE = """
import json, sys
from appliance.config import load_settings
from appliance.inbox.messages import read_conversation
from appliance.runtime import open_runtime
from appliance.store.models import Message
rt = open_runtime(load_settings())
found = Message.get_or_none(Message.wamid == sys.argv[1])
bodies = ([r.body for r in read_conversation(rt, found.conversation_id, actor="cli")]
          if found else [])
print(json.dumps(bodies))
"""

_POST = """
import ssl, sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "X-Hub-Signature-256": sys.argv[2]})
try:
    with urllib.request.urlopen(request, timeout=10,
                                context=ssl._create_unverified_context()) as reply:
        print(reply.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
"""


_POSTS = """
import json, ssl, sys, time, urllib.error, urllib.request
plan = json.load(sys.stdin)
context = ssl._create_unverified_context()
out = []
for i, (body, signature) in enumerate(plan["posts"]):
    time.sleep(max(0.0, plan["start"] + i * plan["every"] - time.time()))
    request = urllib.request.Request(plan["url"], data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    started = time.monotonic()
    try:  # a fresh connection each time, TLS handshake and all, as Meta may open one
        with urllib.request.urlopen(request, timeout=10, context=context) as reply:
            status = reply.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        status = repr(exc)
    out.append([status, round(time.monotonic() - started, 3)])
print(json.dumps(out))
"""
SIEGE = Path(__file__).with_name("siege.py")


def _unverified() -> ssl.SSLContext:
    # The box's certificate is self-signed (no gembok__tls_cert in the test inventory).
    return ssl._create_unverified_context()


def get_from_lan(url: str) -> tuple[int, str]:
    """A staff PC's request, from the host on the LAN: status and body."""
    try:
        with urllib.request.urlopen(url, timeout=10, context=_unverified()) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def timed_get_from_lan(url: str, headers: dict[str, str] | None = None
                       ) -> tuple[int, float, str]:
    """Status, seconds to the whole answer, and the Server header, from the LAN."""
    request = urllib.request.Request(url, headers=headers or {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10, context=_unverified()) as reply:
            reply.read()
            status, server = reply.status, reply.headers.get("Server", "")
    except urllib.error.HTTPError as exc:
        status, server = exc.code, exc.headers.get("Server", "")
    return status, time.monotonic() - started, server


_GET = """
import ssl, sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1], headers=dict(h.split(": ", 1) for h in sys.argv[2:]))
try:
    with urllib.request.urlopen(request, timeout=10,
                                context=ssl._create_unverified_context()) as reply:
        print(reply.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError as exc:
    print(type(exc).__name__)
"""


def get_from_internet(url: str, *headers: str) -> str:
    """The status a client on the internet gets for a GET (or the error's name)."""
    return network.from_internet(sys.executable, "-c", _GET, url, *headers).stdout.strip()


def served_certificate(host: str, port: int) -> tuple[str, str]:
    """The TLS version a browser on the LAN gets and the subject of the certificate shown."""
    with socket.create_connection((host, port), timeout=10) as raw, \
            _unverified().wrap_socket(raw) as tls:
        cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        return str(tls.version()), cert.subject.rfc4514_string()


def internet_reaches(port: int) -> bool:
    """Whether a TCP connection from the internet namespace to the box's WAN address opens."""
    done = network.from_internet("nc", "-z", "-w", "2", network.BOX_WAN_IP, str(port))
    return done.returncode == 0


def webhook_from_internet(app_secret: str, body: dict) -> int:
    """Meta's call: a signed POST from the internet to the box's webhook port."""
    raw = json.dumps(body).encode()
    done = network.from_internet(
        sys.executable, "-c", _POST,
        f"https://{network.BOX_WAN_IP}:8444/webhooks/whatsapp", sign(app_secret, raw),
        input=raw.decode())
    return int(done.stdout.strip() or 0)


def webhooks_from_internet(app_secret: str, bodies: list[dict], every: float
                           ) -> list[tuple[int | str, float]]:
    """Meta's calls, one every `every` seconds, each on a new connection: per call, the
    status (or the error) and the seconds from connect to the answer."""
    posts = []
    for body in bodies:
        raw = json.dumps(body)
        posts.append([raw, sign(app_secret, raw.encode())])
    plan = {"url": f"https://{network.BOX_WAN_IP}:8444/webhooks/whatsapp", "posts": posts,
            "every": every, "start": time.time() + 0.2}
    done = network.from_internet(sys.executable, "-c", _POSTS, input=json.dumps(plan),
                                 timeout=60 + every * len(bodies))
    assert done.returncode == 0, done.stderr
    return [(status, seconds) for status, seconds in json.loads(done.stdout)]


class Siege:
    """Idle and slow clients (siege.py) running from the internet namespace or the LAN."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.report: dict = {}


@contextmanager
def siege(port: int, sources: list[str], *, from_internet: bool = True,
          **plan: float | int | bool) -> Iterator[Siege]:
    """Opens the connections, yields once they are all open, and on leaving waits for the
    script's report (the server drops what is left, within `drain` seconds)."""
    host = network.BOX_WAN_IP if from_internet else network.BOX_IP
    spec = json.dumps({"host": host, "port": port, "sources": sources, **plan})
    where = ["ip", "netns", "exec", network.INTERNET_NS] if from_internet else []
    proc = subprocess.Popen([*where, sys.executable, str(SIEGE), spec], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    running = Siege(proc)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("ready "), f"{ready}{proc.stderr.read() if proc.stderr else ''}"
        running.report["ready"] = json.loads(ready.removeprefix("ready "))
        yield running
        out, err = proc.communicate(timeout=float(plan.get("hold", 15))
                                    + float(plan.get("drain", 20)) + 60)
        assert proc.returncode == 0, err
        running.report.update(json.loads(out.strip().splitlines()[-1]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(predicate, timeout=60.0, every=0.5):
    """The predicate's first true value, or its last false one after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def message_bodies(box: Box, wamid: str) -> list[str]:
    """The bodies of the conversation holding `wamid`, read through Gembok's own services."""
    done = box.ssh(AS_SERVICE + "/opt/gembok/venv/bin/python - " + wamid, input=_READ_MESSAGE)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


_READ_AUDITS = """
import sys
from appliance.config import load_settings
from appliance.runtime import open_runtime
from appliance.store.models import AuditEntry
open_runtime(load_settings())
print(AuditEntry.select().where(AuditEntry.action == sys.argv[1],
                                AuditEntry.target == sys.argv[2]).count())
"""


def audited(box: Box, action: str, target: str) -> int:
    """How many entries of the box's audit chain record `action` on `target`."""
    done = box.ssh(AS_SERVICE + f"/opt/gembok/venv/bin/python - {action} {target}",
                   input=_READ_AUDITS)
    return int(done.stdout.strip().splitlines()[-1])


def text_message(wamid: str, body: str, wa_id: str = "6281234567890") -> dict:
    """A customer's text as Meta sends it (one entry, one change, one message)."""
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000",
                             "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Siti Rahayu"}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": "1764000000",
                              "type": "text", "text": {"body": body}}]}}]}]}
