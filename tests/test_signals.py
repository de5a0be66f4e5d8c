"""A study stops within seconds on SIGTERM (a worker shutting down, a cancelled flow run)
and SIGINT (Ctrl-C), records its interrupted run, and the next run of the study resumes.

Real ``python -m flows.pipeline`` processes (the command a worker runs is the same flow)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from har_data.layout import DataHome
from har_models.results import find_record, read_metrics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
# One batch (about 10 s for this test on the shared 2-core machine under load, under 1 s
# idle) plus the flow's teardown.
STOP_WITHIN_S = 20.0


def pipeline_cmd(archive: Path, epochs: int) -> list[str]:
    return [
        sys.executable, "-m", "flows.pipeline", "--source", str(archive), "--profile", "custom",
        "--architectures", "lstm", "--repeats", "1", "--epochs", str(epochs),
        "--study-id", "stopped", "--device", "cpu", "--max-workers", "1",
    ]  # fmt: skip


def default_sigint() -> None:
    """A terminal's default: a pytest started in the background without job control ignores
    SIGINT, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_until_training(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start the pipeline; return once its log shows the first epoch."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=default_sigint,
        )  # fmt: skip
    deadline = time.monotonic() + 300
    while "lstm-r00 epoch 1/" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"training never started:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.5)
    return proc


def stop_and_time(proc: subprocess.Popen[bytes], sig: int, group: bool, log: Path) -> float:
    """Send ``sig`` (to the process, or its group as a terminal's Ctrl-C does); seconds to exit."""
    start = time.monotonic()
    (os.killpg if group else os.kill)(proc.pid, sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 60 s after signal {sig}:\n{log.read_text()[-4000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):  # an embedded server that outlived it
            os.killpg(proc.pid, signal.SIGKILL)
    return time.monotonic() - start


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HAR_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
    }


def test_a_study_stops_on_sigterm_and_sigint_and_resumes(
    synthetic_archive: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    study = DataHome.resolve(tmp_path / "home").study("stopped")
    endless = pipeline_cmd(synthetic_archive, epochs=1_000_000)

    # To the pipeline process only: a terminal's Ctrl-C would also stop the embedded Prefect
    # server that `python -m flows.pipeline` starts in its process group (not the worker's
    # case: there the server runs elsewhere), and Prefect's client then retries its calls.
    for sig, group in ((signal.SIGTERM, False), (signal.SIGINT, False)):
        log = tmp_path / f"pipeline-{sig.name}.log"
        proc = run_until_training(endless, env, log)
        seconds = stop_and_time(proc, sig, group, log)
        assert seconds < STOP_WITHIN_S, f"{sig.name}: {seconds:.1f} s\n{log.read_text()[-3000:]}"
        assert proc.returncode != 0
        record = find_record(study, "lstm-r00")
        assert record is not None and record.status == "interrupted", log.read_text()[-3000:]
        assert not study.checkpoint("lstm-r00").exists()

    # The next run of the same study trains the interrupted run and reports.
    done = subprocess.run(
        pipeline_cmd(synthetic_archive, epochs=1), cwd=REPO, env=env, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    metrics = read_metrics(study)
    assert list(metrics["status"]) == ["completed"]
    assert (DataHome.resolve(tmp_path / "home").report_dir("stopped") / "report.html").is_file()
