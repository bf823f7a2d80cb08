"""Provides the run-state file: which processes `gembok run` started, for `gembok doctor`."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from appliance.atomicfile import write_atomic


@dataclass(frozen=True)
class RunState:
    supervisor_pid: int
    ready_seconds: float
    children: dict[str, int]
    restarts: dict[str, int] = field(default_factory=dict)  # times each child was restarted


def state_path(run_dir: Path) -> Path:
    return run_dir / "state.json"


def write_state(run_dir: Path, state: RunState) -> None:
    write_atomic(state_path(run_dir), json.dumps(asdict(state)).encode(), mode=0o600)


def read_state(run_dir: Path) -> RunState | None:
    try:
        doc = json.loads(state_path(run_dir).read_text())
        return RunState(int(doc["supervisor_pid"]), float(doc["ready_seconds"]),
                        {str(k): int(v) for k, v in doc["children"].items()},
                        {str(k): int(v) for k, v in doc.get("restarts", {}).items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_state(run_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        state_path(run_dir).unlink()
