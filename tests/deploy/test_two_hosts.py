"""An IT admin spreads Gembok over two Debian 12 servers with the same one Ansible command:
`front` faces the staff LAN and the internet (web UI, webhook listener, inbox writer),
`back` holds the store (PostgreSQL), the queues (Redis) and the workers. A customer's
signed webhook lands on the front, is stored and applied on the back, and the agent reads
it decrypted on the front; the links between them are TLS, the master key is sealed for
each host alone, and an erasure made on one host is in every host's ledger.

Two booted containers for the whole story, installed once; the tests run in order.
"""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from tests.deploy import network
from tests.deploy.conftest import figure
from tests.deploy.probes import (
    AS_SERVICE,
    message_bodies,
    text_message,
    wait_for,
    webhook_from_internet,
)
from tests.staff_client import StaffClient

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1800)]

FRONT_UNITS = ("gembok-web", "gembok-webhook", "gembok-inbox-writer")
BACK_UNITS = ("gembok-worker", "gembok-scheduler", "gembok-redis")
APP_SECRET = "two-hosts-app-secret-9d2e"
WEB = f"https://{network.BOX_IP}:8443"
CRED = "/etc/credstore.encrypted/gembok-master.key"
TLS_SESSIONS = """select count(*), bool_and(s.ssl) from pg_stat_ssl s
                  join pg_stat_activity a using (pid) where a.client_addr = :'client';"""


def states(box, units) -> list[str]:
    names = " ".join(f"{u}.service" for u in units)
    return box.ssh(f"systemctl is-active {names}", check=False).stdout.split()


def run_python(box, code: str) -> str:
    """Runs `code` with Gembok's services' config and key on `box`; its last line."""
    done = box.ssh(AS_SERVICE + "/opt/gembok/venv/bin/python -", input=code)
    return done.stdout.strip().splitlines()[-1]


def diagnosis(box) -> str:
    """What a failure's reader needs: Gembok's own log lines and nginx's errors."""
    return box.ssh("journalctl -o cat -u 'gembok-*' -n 80 --no-pager; "
                   "tail -n 20 /var/log/nginx/error.log", check=False).stdout


def test_each_host_runs_its_part_and_only_it(two_hosts_installed):
    front, back = two_hosts_installed
    assert states(front, FRONT_UNITS) == ["active"] * 3, front.ssh(
        "journalctl -u 'gembok-*' -n 80 --no-pager", check=False).stdout
    assert states(back, (*BACK_UNITS, "postgresql@15-main")) == ["active"] * 4, back.ssh(
        "journalctl -u 'gembok-*' -u 'postgresql*' -n 80 --no-pager", check=False).stdout
    # What the other host runs is not installed at all: nothing to start by mistake
    assert states(front, BACK_UNITS) == ["inactive"] * 3
    assert states(back, FRONT_UNITS) == ["inactive"] * 3
    assert back.ssh("ls /etc/systemd/system/gembok-web.service", check=False).returncode != 0
    for box in (front, back):
        state = box.ssh("systemctl is-system-running", check=False).stdout.strip()
        assert state == "running", box.ssh("systemctl --failed", check=False).stdout


def test_the_master_key_reaches_each_host_sealed_for_that_host_alone(two_hosts_installed):
    front, back = two_hosts_installed
    # Both open the same store, so both hold the same key ...
    digests = [box.ssh(f"systemd-creds decrypt --name=master.key {CRED} - | sha256sum"
                       ).stdout.split()[0] for box in (front, back)]
    assert digests[0] == digests[1]
    # ... sealed differently, and the back's sealed file is of no use on the front
    sealed = [hashlib.sha256(box.ssh(f"base64 -w0 {CRED}").stdout.encode()).hexdigest()
              for box in (front, back)]
    assert sealed[0] != sealed[1]
    front.ssh("base64 -d > /root/back-sealed.key", input=back.ssh(f"base64 -w0 {CRED}").stdout)
    try:
        opened = front.ssh("systemd-creds decrypt --name=master.key /root/back-sealed.key - "
                           ">/dev/null", check=False)
        assert opened.returncode != 0
    finally:
        front.ssh("rm -f /root/back-sealed.key")


def test_a_signed_webhook_on_the_front_is_applied_on_the_back_and_read_on_the_front(
        two_hosts_installed):
    front, back = two_hosts_installed
    # Given the admin entered Meta's secrets and made an agent, on the front
    front.ssh("/usr/local/sbin/gembok whatsapp configure",
              input=f"EAAG-two-hosts-token\n{APP_SECRET}\ntwo-hosts-verify-token\n")
    front.ssh("/usr/local/sbin/gembok division create Sales")
    made = front.ssh("/usr/local/sbin/gembok user create rina --role agent "
                     "--division Sales").stdout
    password = made.rsplit("one-time password:", 1)[1].strip()
    # When a customer writes, and Meta posts the signed webhook to the front
    wamid = f"wamid.twohosts{uuid.uuid4().hex[:16]}"
    text = "Halo, paket saya tertahan di gudang"
    answers: list[int] = []  # each try's status (0: no answer), for a failure's reader

    def delivered() -> bool:
        answers.append(webhook_from_internet(APP_SECRET, text_message(
            wamid, text, wa_id="6281377770001")))
        return answers[-1] == 200

    assert wait_for(delivered, timeout=60), (answers, diagnosis(front))
    # Then the back's worker applies it (read there, through Gembok's own services)
    assert wait_for(lambda: text in message_bodies(back, wamid), timeout=90), diagnosis(back)
    # And Rina, signed in on the front from the LAN, reads it decrypted
    rina = StaffClient(WEB, "rina", password).sign_in()
    try:
        rows = rina.get("/api/conversations").json()["conversations"]
        opened = rina.get(f"/api/conversations/{rows[0]['id']}")
        assert opened.status_code == 200 and text in opened.text
    finally:
        rina.close()
    # Nothing of it is in the store in clear: the back's PostgreSQL holds sealed cells only
    dump = back.ssh("runuser -u postgres -- pg_dump --data-only gembok | grep -c 'tertahan' "
                    "|| true").stdout.strip()
    assert dump == "0"


def test_the_store_and_the_queues_are_reached_over_tls_only(two_hosts_installed):
    front, back = two_hosts_installed
    # The front's sessions on the back's PostgreSQL are TLS ...
    sessions = back.ssh(f"runuser -u postgres -- psql -XtA -v client={network.BOX_IP}",
                        input=TLS_SESSIONS).stdout.strip()
    count, all_tls = sessions.split("|")
    assert int(count) > 0 and all_tls == "t", sessions
    # ... and one without TLS is turned away, as is one in clear to Redis's port
    plain = front.ssh(
        "/opt/gembok/venv/bin/python -c \"import psycopg; psycopg.connect("
        f"host='{network.BACK_IP}', dbname='gembok', user='gembok', sslmode='disable', "
        "password=open('/etc/gembok/store.password').read().strip())\"", check=False)
    assert plain.returncode != 0 and "no encryption" in plain.stderr, plain.stderr
    clear = front.ssh(
        "/opt/gembok/venv/bin/python -c \"import redis; redis.Redis(host="
        f"'{network.BACK_IP}', port=6380, socket_timeout=3).ping()\"", check=False)
    assert clear.returncode != 0
    # Redis answers the front on its link address only through its TLS port
    held = back.ssh("ss -Htn state established '( sport = :6380 )'").stdout
    assert network.BOX_IP in held, held
    # No Gembok unit of the front listens on TCP: nginx alone does
    listening = front.ssh("ss -Hltnp").stdout
    assert "gunicorn" not in listening and "gembok" not in listening, listening


def test_a_second_run_on_two_hosts_changes_nothing(two_hosts_installed, two_host_playbook):
    run = two_host_playbook.run()
    figure(f"second playbook run on two hosts: {run.seconds:.1f} s")
    assert run.failed == {"front": 0, "back": 0, "localhost": 0}, run.tail(80)
    assert run.changed == {"front": 0, "back": 0, "localhost": 0}, run.tail(120)


def test_an_erasure_made_on_the_front_is_in_the_backs_ledger_after_the_next_run(
        two_hosts_installed, two_host_playbook):
    front, back = two_hosts_installed
    customer = run_python(front, "from appliance.config import load_settings\n"
                                 "from appliance.runtime import open_runtime\n"
                                 "from appliance.store.models import Customer\n"
                                 "open_runtime(load_settings())\n"
                                 "print(max(c.id for c in Customer.select()))\n")
    front.ssh(f"/usr/local/sbin/gembok customer erase {customer} --yes")
    assert back.ssh("cat /var/lib/gembok/erasure.ledger", check=False).stdout == ""
    run = two_host_playbook.run()
    assert run.failed == {"front": 0, "back": 0, "localhost": 0}, run.tail(80)
    ledger = back.ssh("stat -c '%a %U' /var/lib/gembok/erasure.ledger && "
                      "cat /var/lib/gembok/erasure.ledger").stdout
    assert ledger.startswith("600 gembok\n") and re.search(rf"^{customer}\t", ledger, re.M), ledger


def master_digest(box) -> str:
    return box.ssh(f"systemd-creds decrypt --name=master.key {CRED} - | sha256sum"
                   ).stdout.split()[0]


def test_the_admin_rotates_the_master_key_on_the_primary_and_the_playbook_reseals_it(
        two_hosts_installed, two_host_playbook):
    front, back = two_hosts_installed
    before = master_digest(back)
    # Given every host stopped, the front refuses to rotate and names the primary
    for box in (front, back):
        box.ssh("systemctl stop gembok.target")
    refused = front.ssh("/usr/local/sbin/gembok keys rotate-master", check=False)
    assert refused.returncode == 2 and "back" in refused.stderr, refused.stderr
    # When the admin rotates on the primary, then runs the playbook to reseal
    back.ssh("/usr/local/sbin/gembok keys rotate-master")
    run = two_host_playbook.run(gembok__reseal_master="true")
    assert run.failed == {"front": 0, "back": 0, "localhost": 0}, run.tail(80)
    # Then both hosts hold the new key, and a new customer's message goes round again
    assert master_digest(front) == master_digest(back) != before
    wamid = f"wamid.twohosts{uuid.uuid4().hex[:16]}"
    assert wait_for(lambda: webhook_from_internet(APP_SECRET, text_message(
        wamid, "Sesudah rotasi kunci", wa_id="6281377770002")) == 200, timeout=60), \
        diagnosis(front)
    assert wait_for(lambda: "Sesudah rotasi kunci" in message_bodies(front, wamid),
                    timeout=90), diagnosis(back)
