"""An IT admin installs Gembok on a Debian 12 server with one Ansible command, and the box
serves, keeps its keys, faces the internet with the webhook only (behind nginx, which
holds a thousand idle and slow clients while Meta still gets through), survives a
rotation, an upgrade and a reboot, and a second run of the playbook changes nothing.

One box for the whole story (booting and installing it is most of the cost), so the
tests run in this order and each one leaves the box as the next expects it.
"""

from __future__ import annotations

import re
import shutil
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from appliance import __version__
from tests.deploy import network
from tests.deploy.conftest import figure
from tests.deploy.probes import (
    audited,
    get_from_internet,
    get_from_lan,
    internet_reaches,
    message_bodies,
    served_certificate,
    siege,
    text_message,
    timed_get_from_lan,
    wait_for,
    webhook_from_internet,
    webhooks_from_internet,
)
from tests.staff_client import StaffClient

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(1800)]

UNITS = ("gembok-redis", "gembok-inbox-writer", "gembok-web", "gembok-webhook",
         "gembok-worker", "gembok-scheduler")
APP_SECRET = "deploy-test-app-secret-5f1c"
WEB = f"https://{network.BOX_IP}:8443"
HOOK = f"https://{network.BOX_WAN_IP}:8444"
# nginx's timeouts (the role's defaults): the handshake and whole header, a pause in a
# webhook's body. A dropped client must be gone within these and a little slack.
HEADER_TIMEOUT, HOOK_BODY_TIMEOUT, SLACK = 10, 4, 4


def units_active(box) -> dict[str, str]:
    names = " ".join(f"{u}.service" for u in UNITS)
    states = box.ssh(f"systemctl is-active gembok.target {names}", check=False).stdout.split()
    return dict(zip(("gembok.target", *UNITS), states, strict=True))


def customer_writes(box, text: str) -> str:
    """A customer's WhatsApp message, as Meta delivers it; returns its wamid once acknowledged."""
    wamid = f"wamid.deploy{uuid.uuid4().hex[:16]}"
    assert wait_for(lambda: webhook_from_internet(APP_SECRET, text_message(wamid, text)) == 200,
                    timeout=30), "the webhook listener never acknowledged the signed POST"
    return wamid


def stored(box, wamid: str, text: str) -> bool:
    """Whether the worker has put the message in its customer's conversation (waits a while)."""
    return bool(wait_for(lambda: text in message_bodies(box, wamid), timeout=60))


def test_the_playbook_installs_a_box_where_every_unit_runs(installed, first_run):
    # Given a fresh Debian 12 server, when the admin ran the playbook once (fixture)
    # Then every unit of the appliance is active, and systemd itself is content
    assert units_active(installed) == {u: "active" for u in ("gembok.target", *UNITS)}, \
        installed.ssh("systemctl --failed --no-legend; journalctl -u 'gembok-*' -n 60 "
                      "--no-pager", check=False).stdout
    state = installed.ssh("systemctl is-system-running", check=False).stdout.strip()
    assert state == "running", installed.ssh("systemctl --failed", check=False).stdout


def test_the_first_admins_password_waits_in_a_root_only_file(installed):
    facts = installed.ssh("stat -c '%a %U' /root/gembok-first-admin-password && "
                          "cat /root/gembok-first-admin-password").stdout
    assert facts.startswith("600 root\n")
    assert "user name: admin" in facts and re.search(r"one-time password: \S{10,}", facts)


def test_the_web_ui_answers_staff_over_tls_on_the_lan(installed):
    status, body = get_from_lan(f"{WEB}/healthz")
    assert (status, body) == (200, "ok\n")
    assert get_from_lan(f"{WEB}/login")[0] == 200
    version, subject = served_certificate(network.BOX_IP, 8443)
    assert version in ("TLSv1.2", "TLSv1.3") and "Gembok on gembokbox" in subject
    # nginx serves it (without its version), gunicorn listens on a socket nginx alone reaches
    assert timed_get_from_lan(f"{WEB}/login")[2] == "nginx"
    sockets = installed.ssh("stat -c '%A %U %G %n' /run/gembok /run/gembok/web.sock "
                            "/run/gembok/webhook.sock").stdout.splitlines()
    assert sockets == ["drwxr-x--- root gembok-front /run/gembok",
                       "srw-rw---- root gembok-front /run/gembok/web.sock",
                       "srw-rw---- root gembok-front /run/gembok/webhook.sock"], sockets
    listening = installed.ssh("ss -Hltnp").stdout
    assert "gunicorn" not in listening and "gembok" not in listening, listening
    assert installed.ssh("runuser -u gembok-redis -- stat /run/gembok/web.sock",
                         check=False).returncode  # Redis's user cannot even see it


def test_a_signed_webhook_from_the_internet_becomes_a_message_in_the_database(installed):
    # Given the admin entered Meta's secrets once, on the box
    installed.ssh("/usr/local/sbin/gembok whatsapp configure",
                  input=f"EAAG-deploy-token\n{APP_SECRET}\ndeploy-verify-token\n")
    # When a customer writes, and Meta posts the signed webhook from the internet
    wamid = customer_writes(installed, "Halo, pesanan saya belum sampai")
    # Then the worker has stored it, sealed, in the customer's conversation
    assert stored(installed, wamid, "Halo, pesanan saya belum sampai")
    assert message_bodies(installed, wamid) == ["Halo, pesanan saya belum sampai"]


def test_an_agents_reads_on_the_installed_box_are_in_the_audit_chain(installed):
    # Given a division, an agent of it, and a customer who writes to it
    installed.ssh("/usr/local/sbin/gembok division create Sales")
    made = installed.ssh("/usr/local/sbin/gembok user create rina --role agent "
                         "--division Sales").stdout
    password = made.rsplit("one-time password:", 1)[1].strip()
    wamid = f"wamid.deploy{uuid.uuid4().hex[:16]}"
    assert wait_for(lambda: webhook_from_internet(APP_SECRET, text_message(
        wamid, "Mau tanya ongkir", wa_id="6281399990001")) == 200, timeout=30)
    assert stored(installed, wamid, "Mau tanya ongkir")
    # When she signs in from the LAN and opens the conversation, under the systemd units
    rina = StaffClient(WEB, "rina", password).sign_in()
    try:
        rows = rina.get("/api/conversations").json()["conversations"]
        convo = rows[0]["id"]
        target = f"conversation:{convo}"
        before = audited(installed, "conversation.read", target)  # the test's own look
        for _ in range(3):
            assert rina.get(f"/api/conversations/{convo}").status_code == 200
        # Then every read is in the chain within seconds (gunicorn forked the web worker)
        assert wait_for(lambda: audited(installed, "conversation.read", target) == before + 3,
                        timeout=15), audited(installed, "conversation.read", target)
        # ... also the reads made just before the web service restarts
        assert rina.get(f"/api/conversations/{convo}").status_code == 200
        installed.ssh("systemctl restart gembok-web.service")
        assert wait_for(lambda: audited(installed, "conversation.read", target) == before + 4,
                        timeout=15)
    finally:
        rina.close()


def test_the_internet_reaches_the_webhook_but_not_the_web_ui(installed):
    assert internet_reaches(8444)
    assert not internet_reaches(8443)
    assert not internet_reaches(6379)  # no Redis port at all: it is a unix socket
    assert not internet_reaches(80)  # Debian's default site is off
    # On the webhook's port, nginx passes on Meta's path and the health check alone
    assert get_from_internet(f"{HOOK}/healthz") == "200"
    assert get_from_internet(f"{HOOK}/webhooks/whatsapp?hub.mode=subscribe") == "403"
    assert get_from_internet(f"{HOOK}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=42"
                             "&hub.verify_token=deploy-verify-token") == "200"
    for path in ("/login", "/api/stream", "/webhooks/whatsapp/../../login", "/static/app.js"):
        assert get_from_internet(f"{HOOK}{path}") == "404", path
    # and its log keeps the path of each call, never the verify token of the handshake
    logs = installed.ssh("cat /var/log/nginx/*.log").stdout
    assert '"GET /webhooks/whatsapp" 200' in logs and "deploy-verify-token" not in logs, logs
    assert installed.ssh("stat -c '%a %U %G' /var/log/nginx/gembok-webhook.log"
                         ).stdout.strip() == "640 www-data adm"


def test_the_web_ui_refuses_a_source_outside_the_lan_even_past_the_firewall(installed):
    # The box calling its own internet address goes over loopback, which the firewall lets
    # through: the app's own check (web.allowed_networks) is what answers 403.
    code = installed.ssh("python3 -", input=_SELF_CALL.format(ip=network.BOX_WAN_IP)).stdout
    assert code.strip() == "403"


def test_a_forged_forwarded_for_from_the_internet_does_not_pass_the_lan_check(installed):
    # Given the firewall flushed by mistake: the internet reaches the web UI's port
    installed.ssh("systemctl stop gembok-firewall.service")
    try:
        assert internet_reaches(8443)
        # When a client there claims to be a staff PC on the LAN
        status = get_from_internet(f"https://{network.BOX_WAN_IP}:8443/login",
                                   "X-Forwarded-For: 10.213.0.5", "X-Real-IP: 10.213.0.5")
        # Then the app, which believes nginx alone, saw its real address and refused it
        assert status == "403"
        log = installed.ssh("journalctl -u gembok-web --no-pager -o cat -n 20").stdout
        assert f"web UI request from {network.INTERNET_IP} refused" in log, log
    finally:
        installed.ssh("systemctl start gembok-firewall.service")
    assert not internet_reaches(8443)


_SELF_CALL = """
import ssl, urllib.error, urllib.request
try:
    urllib.request.urlopen("https://{ip}:8443/healthz", context=ssl._create_unverified_context())
    print(200)
except urllib.error.HTTPError as exc:
    print(exc.code)
"""


def _held_on_the_box(box, port: int) -> int:
    return len(box.ssh(f"ss -Htn state established '( sport = :{port} )'").stdout.splitlines())


def test_a_thousand_idle_and_slow_clients_from_the_internet_do_not_keep_meta_out(installed):
    # Given twenty addresses on the internet that open 1,000 connections to the webhook's
    # port and hold them: 400 idle (not even a TLS hello), 500 that send their header a byte
    # every 5 s, 100 that send a whole header and then their body a byte every 5 s; each
    # one dropped is opened again at once, for 20 s
    wamids = [f"wamid.siege{uuid.uuid4().hex[:16]}" for _ in range(7)]
    bodies = [text_message(w, f"Selama serbuan {i}") for i, w in enumerate(wamids)]
    with siege(8444, network.ATTACKERS, idle=400, slow_header=500, slow_body=100,
               interval=5.0, hold=20.0, drain=HEADER_TIMEOUT + 2 * SLACK) as attack, \
            ThreadPoolExecutor(1) as pool:
        assert attack.report["ready"] == {"open": 1000, "refused": 0, "failed": 0}
        # When Meta posts a signed webhook every 2.5 s, and staff open the sign-in page
        meta = pool.submit(webhooks_from_internet, APP_SECRET, bodies, 2.5)
        held, staff = [], []
        while not meta.done():
            held.append(_held_on_the_box(installed, 8444))
            staff.append(timed_get_from_lan(f"{WEB}/login")[:2])
            time.sleep(1.5)
        answers = meta.result()
    # Then every webhook was answered 200 within a second, and the web UI too
    figure(f"siege of 1,000 idle and slow connections: the box held {max(held)} on 8444; "
           f"{len(answers)} signed webhooks answered in "
           f"{', '.join(f'{s:.2f}' for _, s in answers)} s; the sign-in page in at most "
           f"{max(s for _, s in staff):.2f} s")
    assert [status for status, _ in answers] == [200] * len(bodies), answers
    assert max(seconds for _, seconds in answers) < 1.0, answers
    assert all(status == 200 and seconds < 1.0 for status, seconds in staff), staff
    assert max(held) >= 900, held  # they really were open, at nginx
    # And nginx dropped each client within its timeouts, none lasted
    report = attack.report
    assert report["still_open"] == 0 and report["failed"] == 0, report
    limits = {"idle": HEADER_TIMEOUT, "slow_header": HEADER_TIMEOUT,
              "slow_body": HOOK_BODY_TIMEOUT}
    for kind, limit in limits.items():
        lasted = [s["dropped_after"] for s in report["first"] if s["kind"] == kind]
        assert None not in lasted and max(lasted) <= limit + SLACK, (kind, sorted(lasted))
        figure(f"  {kind}: {len(lasted)} dropped by nginx after {min(lasted):.1f}-"
               f"{max(lasted):.1f} s (median {statistics.median(lasted):.1f} s)")
    figure(f"  {report['opened']} connections opened in {report['seconds']} s, "
           f"at most {report['peak']} at once")
    # And the messages are in the database, as any other
    assert stored(installed, wamids[-1], "Selama serbuan 6")


def test_the_web_ui_answers_staff_while_200_idle_connections_from_the_lan_wait(installed):
    with siege(8443, [network.HOST_IP], from_internet=False, idle=200, hold=12.0,
               drain=HEADER_TIMEOUT + 2 * SLACK) as held:
        assert held.report["ready"] == {"open": 200, "refused": 0, "failed": 0}
        answers = []
        for _ in range(6):
            answers.append(timed_get_from_lan(f"{WEB}/login")[:2])
            time.sleep(1.5)
    figure(f"200 idle connections from the LAN: the sign-in page in at most "
           f"{max(s for _, s in answers):.2f} s")
    assert all(status == 200 and seconds < 1.0 for status, seconds in answers), answers
    lasted = [s["dropped_after"] for s in held.report["first"]]
    assert held.report["still_open"] == 0 and max(lasted) <= HEADER_TIMEOUT + SLACK, lasted


def test_one_address_cannot_hold_more_than_its_share_of_the_webhook(installed):
    # The firewall resets an address's connections beyond 100 open at once
    with siege(8444, [network.GREEDY], idle=150, reopen=False, hold=1.0,
               drain=HEADER_TIMEOUT + 2 * SLACK) as greedy:
        ready = greedy.report["ready"]
        assert 90 <= ready["open"] <= 100 and ready["open"] + ready["refused"] == 150, ready
    # nginx answers 503 at once to an address's requests beyond 20 in progress
    with siege(8444, [network.GREEDY], slow_body=30, reopen=False, hold=1.0,
               drain=HOOK_BODY_TIMEOUT + 2 * SLACK) as slow:
        pass
    answers = [s["answer"] for s in slow.report["first"]]
    assert sum(a.startswith("HTTP/1.1 503") for a in answers) == 10, answers
    # while Meta, from its own address, is answered as ever
    wamid = f"wamid.share{uuid.uuid4().hex[:16]}"
    assert webhooks_from_internet(APP_SECRET, [text_message(wamid, "Selama serbuan 7")],
                                  0)[0][0] == 200


def test_meta_waits_through_a_restart_of_the_webhook_instead_of_failing(installed):
    # Given the webhook listener restarting on its own (an admin, a crash, Restart=)
    wamid = f"wamid.restart{uuid.uuid4().hex[:16]}"
    installed.ssh("systemctl restart --no-block gembok-webhook.service")
    # When Meta calls meanwhile, then nginx's request waits in the socket systemd holds
    [(status, seconds)] = webhooks_from_internet(
        APP_SECRET, [text_message(wamid, "Selama restart")], 0)
    figure(f"a webhook posted while gembok-webhook restarted: {status} in {seconds:.2f} s")
    assert status == 200
    assert stored(installed, wamid, "Selama restart")


def test_the_master_key_is_in_no_file_the_service_users_can_read(installed):
    key = installed.ssh("systemd-creds decrypt --name=master.key "
                        "/etc/credstore.encrypted/gembok-master.key - 2>/dev/null").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    # No file on disk holds it, in hex or raw (only systemd's in-memory copies under
    # /run/credentials, one per running unit, which is what LoadCredentialEncrypted= does)
    found = installed.ssh("python3 -", input=_SCAN, timeout=600).stdout.split()
    assert found == [], f"the master key is in clear in {found}"
    # The sealed credential and the secrets file are root's alone
    for user in ("gembok", "gembok-redis"):
        for path in ("/etc/credstore.encrypted/gembok-master.key", "/etc/gembok/gembok.env",
                     "/etc/gembok/redis.password", "/etc/gembok/redis-users.acl",
                     "/var/lib/systemd/credential.secret"):
            assert installed.ssh(f"runuser -u {user} -- cat {path}", check=False).returncode
    memory = installed.ssh("stat -f -c %T /run/credentials/gembok-web.service && "
                           "stat -c '%a %U' /run/credentials/gembok-web.service/master.key")
    assert memory.stdout.split("\n")[:2] == ["ramfs", "400 gembok"]


_SCAN = """
import binascii, os, subprocess
key = subprocess.run(["systemd-creds", "decrypt", "--name=master.key",
                      "/etc/credstore.encrypted/gembok-master.key", "-"],
                     capture_output=True, text=True, check=True).stdout.strip()
needles = [key.encode(), key.upper().encode(), binascii.unhexlify(key)]
for top, dirs, files in os.walk("/"):
    if top in ("/proc", "/sys", "/dev", "/run/credentials"):
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(top, name)
        try:
            if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > 64e6:
                continue
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if any(n in data for n in needles):
            print(path)
"""


def test_gembok_doctor_finds_the_installed_box_healthy(installed):
    done = installed.ssh("/usr/local/sbin/gembok doctor", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("unit gembok-webhook", "master key credential", "data dir modes",
                 "secrets on disk", "redis ACL", "redis password", "front (nginx)",
                 "front web UI", "front webhook", "TLS web UI (served)",
                 "TLS webhook (served)"):
        assert re.search(rf"^ok\s+{re.escape(line)}", done.stdout, re.M), done.stdout
    assert "gembok:***@" in done.stdout  # the Redis password is never printed


def test_every_unit_is_hardened_and_scores_ok_or_better(installed):
    verify = installed.ssh("systemd-analyze verify /etc/systemd/system/gembok.target "
                           "/etc/systemd/system/gembok-firewall.service "
                           "/etc/systemd/system/gembok-web.socket "
                           "/etc/systemd/system/gembok-webhook.socket "
                           + " ".join(f"/etc/systemd/system/{u}.service" for u in UNITS),
                           check=False)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    for unit in UNITS:
        line = installed.ssh(f"systemd-analyze security --no-pager {unit}.service | tail -1"
                             ).stdout.strip()
        score, level = re.search(r": (\d+\.\d+) (\w+)", line).groups()
        figure(f"systemd-analyze security {unit}.service: {score} {level}")
        assert level in ("PERFECT", "SAFE", "OK"), line


def test_a_second_run_of_the_playbook_changes_nothing(installed, playbook):
    run = playbook.run()
    figure(f"second playbook run (nothing to do): {run.seconds:.1f} s")
    assert run.failed == {"box": 0, "localhost": 0}, run.tail()
    assert run.changed == {"box": 0, "localhost": 0}, run.tail()


def test_the_admin_rotates_the_master_key_and_every_service_follows(installed):
    # Given a message stored under the current master key
    wamid = customer_writes(installed, "Sebelum rotasi")
    assert stored(installed, wamid, "Sebelum rotasi")
    sealed = installed.ssh("cat /etc/credstore.encrypted/gembok-master.key").stdout
    backups = admin_backups(installed)
    # When the admin rotates it, as root, with the same command as anywhere else
    done = installed.ssh("/usr/local/sbin/gembok keys rotate-master")
    # Then a new key is sealed in place of the old one (gone, on purpose), all runs again,
    # and a backup under the new key was made at once
    assert "master key rotated" in done.stdout, done.stdout + done.stderr
    assert installed.ssh("cat /etc/credstore.encrypted/gembok-master.key").stdout != sealed
    assert installed.ssh("ls /etc/credstore.encrypted").stdout.split() == ["gembok-master.key"]
    assert len(admin_backups(installed)) == len(backups) + 1
    assert wait_for(lambda: set(units_active(installed).values()) == {"active"}, timeout=30)
    assert "Sebelum rotasi" in message_bodies(installed, wamid)
    assert stored(installed, customer_writes(installed, "Sesudah rotasi"), "Sesudah rotasi")


def test_an_upgrade_backs_up_stops_migrates_and_starts_again(installed, playbook, tmp_path):
    # Given a new version of Gembok in a checkout (its dependencies are the same)
    version = f"{__version__}+deploytest"  # sorts above the installed one, whatever it is
    checkout = _bumped_checkout(playbook.checkout, tmp_path / "checkout", version)
    wheelhouse = playbook.wheelhouse.with_name("wheelhouse-next")
    shutil.copytree(playbook.wheelhouse, wheelhouse, dirs_exist_ok=True)
    backups = admin_backups(installed)
    # When the admin runs the same playbook from it
    run = playbook.run(gembok__checkout=str(checkout), gembok__wheelhouse=str(wheelhouse))
    figure(f"playbook run that upgrades: {run.seconds:.1f} s")
    assert run.failed == {"box": 0, "localhost": 0}, run.tail()
    # Then it backed up first, stopped the services for the code and the migrations,
    # and started them again on the new version
    order = [line for line in run.output.splitlines() if line.startswith("TASK [")]
    steps = [_index(order, "Back up the database first"), _index(order, "Stop Gembok while"),
             _index(order, "Install this checkout's Gembok"),
             _index(order, "Apply schema migrations once"),
             _index(order, "Enable and start gembok.target")]
    assert steps == sorted(steps), order
    assert len(admin_backups(installed)) == len(backups) + 1
    assert installed.ssh("/opt/gembok/venv/bin/gembok version").stdout.strip() == \
        f"gembok {version}"
    assert set(units_active(installed).values()) == {"active"}


def admin_backups(box) -> list[str]:
    """The backups made on purpose (the scheduler's nightly ones come and go on their own)."""
    names = box.ssh("ls /var/lib/gembok/backups", check=False).stdout.split()
    return [n for n in names if not n.endswith("-nightly")]


def test_the_box_made_its_first_nightly_backup_by_itself(installed):
    # The scheduler backs up at backup.daily_at, and at once on a box that had none yet
    assert wait_for(lambda: [n for n in installed.ssh("ls /var/lib/gembok/backups").stdout
                             .split() if n.endswith("-nightly")], timeout=90)


def _index(tasks: list[str], name: str) -> int:
    return next(i for i, line in enumerate(tasks) if name in line)


def _bumped_checkout(installed_code: Path, target: Path, version: str) -> Path:
    """The installed code, as the next release would be: the same code, a new version."""
    shutil.copytree(installed_code, target)
    pyproject = target / "pyproject.toml"
    pyproject.write_text(re.sub(r'^version = ".*"$', f'version = "{version}"',
                                pyproject.read_text(), count=1, flags=re.M))
    init = target / "appliance" / "__init__.py"
    init.write_text(re.sub(r'__version__ = ".*"', f'__version__ = "{version}"', init.read_text()))
    return target


def test_a_reboot_brings_every_service_back(installed):
    seconds = installed.reboot()
    figure(f"reboot until every unit is active: {seconds:.1f} s")
    assert wait_for(lambda: set(units_active(installed).values()) == {"active"}, timeout=60), \
        units_active(installed)
    assert get_from_lan(f"{WEB}/healthz")[0] == 200
    assert internet_reaches(8444) and not internet_reaches(8443)
    assert stored(installed, customer_writes(installed, "Setelah reboot"), "Setelah reboot")


def test_a_box_whose_sealed_key_no_longer_opens_comes_back_with_the_key_from_the_vault(
        installed, playbook):
    # Given the admin kept the master key offline, as the README says
    key = installed.ssh("systemd-creds decrypt --name=master.key "
                        "/etc/credstore.encrypted/gembok-master.key -").stdout.strip()
    wamid = customer_writes(installed, "Sebelum pindah")
    assert stored(installed, wamid, "Sebelum pindah")
    # When the sealed file is lost with the host key that sealed it (a new board, a new
    # disk for /var/lib/systemd), and the admin runs the playbook with the key from the vault
    installed.ssh("rm /etc/credstore.encrypted/gembok-master.key "
                  "/var/lib/systemd/credential.secret")
    run = playbook.run(gembok__master_key=key)
    assert run.failed == {"box": 0, "localhost": 0}, run.tail()
    assert key not in run.output  # stdin, not an argument, and no_log
    # Then the playbook sealed it anew and restarted everything, and the data opens again
    assert run.changed["box"] > 0 and "RUNNING HANDLER [gembok : Restart Gembok]" in run.output
    assert wait_for(lambda: set(units_active(installed).values()) == {"active"}, timeout=60)
    assert "Sebelum pindah" in message_bodies(installed, wamid)


def test_nothing_a_customer_wrote_or_is_called_reaches_the_journal(installed):
    # After a day's work on the box (install, messages, rotation, upgrade, reboot), the
    # system journal, which any admin reads and ships elsewhere, names no customer
    journal = installed.ssh("journalctl --no-pager -o cat", timeout=120).stdout
    assert "gembok" in journal  # it is the right journal, and it has Gembok's lines
    for canary in ("Siti Rahayu", "6281234567890", "+62 812", "pesanan saya", "Sebelum rotasi",
                   "Sesudah rotasi", "Setelah reboot", "Sebelum pindah", "Selama serbuan",
                   "Selama restart"):
        assert canary not in journal, f"the journal holds {canary!r}"
