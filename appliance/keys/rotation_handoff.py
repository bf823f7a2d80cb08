"""Provides where a data-key rotation runs: in the worker, or here when Redis is silent.

The CLI (`gembok keys rotate-data`, `resume`) and the TUI's Keys screen both start and
resume a job. Its batches belong in the worker, ten seconds at a time and re-queued, so
that live messages are never starved; when no worker answers, the caller either runs the
batches itself (the TUI, and the CLI's `--wait`) or says so (the CLI). One service for
both, so that the two faces cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from appliance.keys import data_rotation
from appliance.keys.data_rotation import Progress
from appliance.queue_port import QueuePort
from appliance.runtime import Runtime

Where = Literal["worker", "here", "nobody"]


def hand_off(rt: Runtime, queue: QueuePort, job_id: int, *, here_if_silent: bool,
             on_progress: Callable[[Progress | None], object] | None = None,
             budget_seconds: float = 5.0) -> Where:
    """Gives the job to the worker; if Redis does not answer, runs it here to its end (or
    until paused) when `here_if_silent`, else leaves it for the caller to report."""
    if queue.rotate_data_keys(job_id):
        return "worker"
    if not here_if_silent:
        return "nobody"
    run_here(rt, job_id, on_progress=on_progress, budget_seconds=budget_seconds)
    return "here"


def run_here(rt: Runtime, job_id: int, *,
             on_progress: Callable[[Progress | None], object] | None = None,
             budget_seconds: float = 5.0) -> Progress | None:
    """Runs the job in this process, slice by slice, reporting after each, until it is done
    or someone pauses it; returns where it stands."""
    while True:
        done = data_rotation.run(rt, job_id, budget_seconds=budget_seconds)
        progress = data_rotation.progress(job_id)
        if on_progress is not None:
            on_progress(progress)
        if done or progress is None or progress.state != "running":
            return progress
