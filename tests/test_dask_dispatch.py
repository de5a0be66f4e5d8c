"""The har-train flow handing its runs to a real two-worker Dask cluster (separate processes)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from flows.train import train
from har_models.results import read_metrics
from tests.synthetic_tensors import write_synthetic_tensors

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def dask_cluster(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Workers are spawned with this environment: they report to the harness's API."""
    from distributed import LocalCluster

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "worker-prefect-home"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_runs_spread_over_dask_workers(dask_cluster: str, tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    study = train(
        architectures=["stacked_lstm", "cnn_lstm"],
        repeats=1,
        epochs=1,
        device="cpu",
        data_home=str(home.root),
        study_id="dask",
        dispatch="dask",
        dask_address=dask_cluster,
    )
    metrics = read_metrics(study)
    assert sorted(metrics["run_id"]) == ["cnn_lstm-r00", "stacked_lstm-r00"]
    assert set(metrics["status"]) == {"completed"}
    assert all((Path(study) / p).is_file() for p in metrics["checkpoint_path"])
