"""Provides the periodic jobs: for now the audit checkpoint, every minute and at every stop.

Health polling, retention purges, the outbox sweeper and key rotation join this list
as they arrive. Jobs are plain calls; `due` keeps them from running more often than asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.privacy import audit_checkpoint
from appliance.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]
    last: float = field(default=float("-inf"))


class Scheduler:
    def __init__(self, rt: Runtime) -> None:
        self.jobs = [
            Job("audit checkpoint", 60.0, lambda: checkpoint(rt)),
        ]

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for job in self.jobs:
            if now - job.last >= job.every_seconds:
                job.last = now
                try:
                    job.run()
                except Exception:  # a failing job must not stop the others or the appliance
                    log.exception("scheduled job %r failed", job.name)

    def run_forever(self, should_stop: Callable[[], bool], interval: float = 1.0) -> None:
        while not should_stop():
            self.tick()
            time.sleep(interval)


def checkpoint(rt: Runtime) -> None:
    audit_checkpoint.write(rt.settings.audit_head_file, rt.keyring.audit_key)
