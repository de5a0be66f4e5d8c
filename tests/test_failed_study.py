"""A pipeline whose every training run failed exits non-zero and says why (it used to end
"Completed", rc 0, with a report claiming "Only one architecture completed")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from har_data.layout import DataHome
from har_data.synthetic import make_synthetic_archive
from tests.processes import REPO, child_env


@pytest.mark.usefixtures("prefect_harness")
def test_pipeline_with_no_completed_run_exits_non_zero(tmp_path: Path) -> None:
    archive = make_synthetic_archive(
        tmp_path / "one-subject.zip", n_per_class_subject=1, subjects={"train": (1,), "test": (2,)}
    )
    home = DataHome.resolve(tmp_path / "home")
    cmd = [
        sys.executable, "-m", "flows.pipeline", "--source", str(archive), "--profile", "custom",
        "--protocol", "validated", "--architectures", "lstm", "--repeats", "1", "--epochs", "1",
        "--device", "cpu", "--max-workers", "1", "--data-home", str(home.root),
        "--study-id", "doomed",
    ]  # fmt: skip
    env = child_env(tmp_path / "prefect-home", PREFECT_API_URL.value())
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "study doomed: all 1 runs failed, none completed" in done.stderr
    assert "need at least 2 training subjects to hold some out, got 1" in done.stderr
    assert "report:" not in done.stdout and not home.report_dir("doomed").exists()
