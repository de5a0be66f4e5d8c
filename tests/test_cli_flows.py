"""The installed ``har`` script in a subprocess, as a user runs it: the whole pipeline on a
synthetic archive, then studies/best/predict on its result; a failing flow ends with one
error line and exit 1, its traceback only with ``--debug``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

HAR = Path(sys.executable).with_name("har")


def run_har(
    *argv: object, api_url: str | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HAR_RETRY_DELAY_S": "0"}
    env.pop("HAR_HOME", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run(
        [str(HAR), *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def api_url(prefect_harness: None) -> str:
    """The test harness's Prefect API, so each subprocess does not start a server of its own."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    assert url, "the Prefect test harness has no API URL"
    return str(url)


def test_pipeline_then_studies_best_and_predict(
    synthetic_archive: Path, tmp_path: Path, api_url: str
) -> None:
    home = tmp_path / "home"
    run = run_har(
        "pipeline", "--source", synthetic_archive, "--profile", "custom",
        "--architectures", "lstm", "cnn_lstm", "--repeats", "1", "--epochs", "1",
        "--data-home", home, "--study-id", "cli", "--device", "cpu",
        api_url=api_url,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    report = run.stdout.strip().splitlines()[-1]
    assert report == f"report: {home / 'reports' / 'cli'}/report.html"
    assert Path(report.removeprefix("report: ")).is_file()

    studies = run_har("studies", "--data-home", home)
    assert studies.returncode == 0, studies.stderr
    assert {line.split()[1] for line in studies.stdout.splitlines()[1:]} == {"lstm", "cnn_lstm"}

    best = run_har("best", "cli", "--data-home", home)
    assert best.returncode == 0, best.stderr
    checkpoint = Path(best.stdout.strip())
    assert checkpoint.is_file() and checkpoint.parent == home / "runs" / "cli" / "checkpoints"

    out = tmp_path / "predictions.csv"
    predicted = run_har("predict", checkpoint, home / "tensors" / "test.parquet", "-o", out)
    assert predicted.returncode == 0, predicted.stderr
    assert len(pd.read_csv(out)) == len(pd.read_parquet(home / "tensors" / "test.parquet"))


def test_failing_flow_ends_with_one_error_line(tmp_path: Path, api_url: str) -> None:
    missing = tmp_path / "missing.zip"
    run = run_har("ingest", "--source", missing, "--data-home", tmp_path / "h", api_url=api_url)
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[-1] == f"har: error: {missing}: no such archive file"
    assert "Traceback" not in run.stderr + run.stdout
    assert sum("har: error" in line for line in lines) == 1

    debug = run_har(
        "--debug", "ingest", "--source", missing, "--data-home", tmp_path / "h", api_url=api_url
    )
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "no such archive file" in debug.stderr


def test_bad_parameter_is_refused_before_anything_runs(tmp_path: Path) -> None:
    run = run_har("train", "--repeats", "0", "--data-home", tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("har: error: ") and "--repeats" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_python_m_flows_pipeline_is_the_same_command() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "flows.pipeline", "--help"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Usage: har pipeline" in run.stdout and "--architectures" in run.stdout
