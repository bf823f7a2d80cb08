"""Who read what, recorded by the web UI as `gembok run` serves it (gunicorn forks it).

Before issue 11 the read-audit thread started in the app factory, in gunicorn's master,
and died at the fork: under `gembok run` the chain held not one read.
"""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from tests.process.conftest import Office
from tests.running import eventually


@pytest.fixture(scope="module", autouse=True)
def sales(office: Office) -> None:
    office.division("Sales")  # the first division: new conversations land there


def test_every_conversation_and_panel_an_agent_opens_is_in_the_chain_within_seconds(
        office: Office) -> None:
    # Given Siti, an agent of Sales, and a customer who wrote in
    siti = office.staff("siti", "Sales")
    convo = office.customer_writes("6281234560101", "Bu Rina", "Halo, paket saya belum datang")

    # When she opens the conversation twelve times and the customer's panel three times
    for _ in range(12):
        thread = siti.get(f"/api/conversations/{convo}")
        assert thread.status_code == 200
    customer = thread.json()["conversation"]["customer_id"]
    for _ in range(3):
        assert siti.get(f"/api/customers/{customer}").status_code == 200

    # Then every one of those reads is in the audit chain within seconds
    def all_there() -> bool:
        """twelve conversation reads and three panel reads are in the chain"""
        return (office.audited("conversation.read", f"conversation:{convo}") == 12
                and office.audited("customer.read", f"customer:{customer}") == 3)

    eventually(all_there, timeout=10)
    assert office.cli("audit", "verify").returncode == 0


def test_reads_just_before_a_web_worker_restarts_are_not_lost(office: Office) -> None:
    # Given another agent of Sales who reads a conversation
    tono = office.staff("tono", "Sales")
    convo = office.customer_writes("6281234560102", "Pak Joko", "Tagihan saya salah")
    before = office.audited("conversation.read", f"conversation:{convo}")
    workers = office.web_workers()
    assert workers, "gunicorn runs forked workers under gembok run"

    # When the web worker is told to stop (as gunicorn does at max-requests or a reload)
    # right after the reads
    for _ in range(5):
        assert tono.get(f"/api/conversations/{convo}").status_code == 200
    for worker in workers:
        os.kill(worker.pid, signal.SIGTERM)
    psutil.wait_procs(workers, timeout=15)

    # Then the reads it had queued reach the chain, and the new worker records its own
    def five_more() -> bool:
        """the five reads made before the restart are in the chain"""
        return office.audited("conversation.read", f"conversation:{convo}") >= before + 5

    eventually(five_more, timeout=10)

    def serving() -> bool:
        """a new web worker serves"""
        return tono.get(f"/api/conversations/{convo}").status_code == 200

    eventually(serving, timeout=20)
    eventually(lambda: office.audited("conversation.read", f"conversation:{convo}")
               >= before + 6, timeout=10)
