"""The scheduler runs once, however many hosts run it: a lease in the shared store."""

from __future__ import annotations

from datetime import timedelta

from appliance import scheduler as scheduler_mod
from appliance.clock import utcnow
from appliance.scheduler import Job, Scheduler
from appliance.store import leases


def counting(rt, host: str, runs: list[str]) -> Scheduler:
    s = Scheduler(rt, holder=host)
    s.jobs = [Job("count", 1.0, lambda: runs.append(host))]
    return s


def test_two_hosts_schedulers_run_the_jobs_once_and_the_second_takes_over(rt, monkeypatch):
    runs: list[str] = []
    web1, web2 = counting(rt, "web1", runs), counting(rt, "web2", runs)
    for second in range(0, 30, 2):
        web1.tick(now=float(second))
        web2.tick(now=float(second))
    assert set(runs) == {"web1"} and web2.standing_by
    assert leases.holder_of("scheduler")[0] == "web1"
    # web1 goes silent (its host died): a minute later web2 takes the jobs over
    later = utcnow() + timedelta(seconds=scheduler_mod.LEASE_SECONDS + 1)
    monkeypatch.setattr(leases, "utcnow", lambda: later)
    web2.tick(now=100.0)
    assert runs[-1] == "web2" and not web2.standing_by


def test_a_clean_stop_hands_the_lease_over_at_once(rt):
    runs: list[str] = []
    web1, web2 = counting(rt, "web1", runs), counting(rt, "web2", runs)
    web1.tick(now=0.0)
    web2.tick(now=0.0)
    web1.run_forever(lambda: True)  # asked to stop: it releases the lease
    web2.tick(now=5.0)
    assert runs == ["web1", "web2"]


def test_the_same_host_restarting_takes_its_own_lease_back_at_once(rt):
    runs: list[str] = []
    counting(rt, "box", runs).tick(now=0.0)
    counting(rt, "box", runs).tick(now=0.0)  # a new process after a crash: no wait
    assert runs == ["box", "box"]
