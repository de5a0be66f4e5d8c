"""Local process-pool workers report to the flow's own Prefect server: under the embedded
server (no ``PREFECT_API_URL``), each worker used to start a temporary server of its own,
which cost seconds and kept its task runs and logs out of the operator's sight."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import child_env
from tests.synthetic_tensors import write_synthetic_tensors

ARGS = ["--architectures", "lstm", "--repeats", "2", "--epochs", "1", "--device", "cpu",
        "--max-workers", "2", "--batching", "solo", "--study-id", "w"]  # fmt: skip


def test_process_workers_share_the_flows_embedded_server(tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    env = child_env(tmp_path / "prefect-home")
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    proc = subprocess.run(
        [sys.executable, "-m", "har_cli", "train", *ARGS, "--data-home", str(home.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=os.fspath(tmp_path),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # both runs trained in worker processes, and their task runs logged through the one server
    assert "lstm-r00 epoch 1/1" in out and "lstm-r01 epoch 1/1" in out, out[-3000:]
    assert out.count("Starting temporary server") == 1, out[-3000:]
