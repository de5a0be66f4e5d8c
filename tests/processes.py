"""Helper for the concurrency tests: start Python processes that begin their work together.

Each process imports what it needs first (seconds on a busy machine), says it is ready,
then waits for one shared "go" file, so their real work starts within milliseconds of each
other, which is what makes the races these tests guard against likely without the locks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = """
{imports}
import pathlib as _pathlib
import time as _time
_pathlib.Path({ready!r}).touch()
while not _pathlib.Path({go!r}).exists():
    _time.sleep(0.002)
{action}
"""


@dataclass(frozen=True)
class Child:
    imports: str  # run before the start signal
    action: str  # run after it


def child_env(prefect_home: Path, api_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child: its own Prefect home, one torch thread, the test API."""
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(prefect_home),
        OMP_NUM_THREADS="1",
        PYTHONPATH=str(REPO),
        **extra,
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def run_together(
    children: list[Child], workdir: Path, env: dict[str, str], timeout_s: float = 600
) -> list[subprocess.CompletedProcess[str]]:
    """Start every child, release them at once when all are ready, wait for them all."""
    go = workdir / "go"
    procs, ready = [], []
    for i, child in enumerate(children):
        ready.append(workdir / f"ready-{i}")
        code = _CHILD.format(imports=child.imports, ready=str(ready[-1]), go=str(go),
                             action=child.action)  # fmt: skip
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + timeout_s
    while not all(p.exists() for p in ready):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results
