"""The har-train flow under a real (test) Prefect API: files, artifact, cache, validation."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import numpy as np
import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.exceptions import ParameterTypeError

from flows.train import train
from har_models.checkpoint import load_checkpoint
from har_models.data import read_split
from har_models.results import HISTORY_COLUMNS, read_metrics
from tests.synthetic_tensors import SYNTHETIC_SHA256, write_synthetic_tensors


def task_states(flow_run_id: UUID) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {r.name: r.state_name for r in runs if r.name.startswith("train-")}


def test_flow_writes_study_and_rerun_hits_cache(prefect_harness: None, tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    params = {
        "architectures": ["stacked_lstm"],
        "repeats": 2,
        "protocol": "validated",
        "epochs": 1,
        "device": "cpu",
        "data_home": str(home.root),
        "study_id": "Flow_Test",
        "max_workers": 1,
    }
    state = train(**params, return_state=True)
    study = Path(state.result())
    assert study == (home.root / "runs" / "Flow_Test").resolve()
    metrics = read_metrics(study)
    assert list(metrics["run_id"]) == ["stacked_lstm-r00", "stacked_lstm-r01"]
    assert set(metrics["status"]) == {"completed"} and set(metrics["protocol"]) == {"validated"}
    assert set(metrics["data_sha256"]) == {SYNTHETIC_SHA256}
    test_ids, test_counts = np.unique(
        read_split(home.split_path("test")).subject, return_counts=True
    )
    for row in metrics.itertuples():
        history = pd.read_parquet(study / row.history_path)
        assert list(history.columns) == [*HISTORY_COLUMNS, "averaged_val_accuracy", "phase", "fold"]
        assert load_checkpoint(study / row.checkpoint_path).architecture == "stacked_lstm"
        # Each test subject's accuracy, weighted by its windows, adds up to the accuracy.
        assert list(row.test_subjects) == test_ids.tolist()
        weighted = np.dot(row.per_subject_accuracy, test_counts) / test_counts.sum()
        assert weighted == pytest.approx(row.accuracy)
    assert set(task_states(state.state_details.flow_run_id).values()) == {"Completed"}
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
    assert any(a.key == "har-train-flow-test" for a in artifact)

    mtimes = {p: p.stat().st_mtime_ns for p in study.rglob("*.pt")}
    again = train(**params, return_state=True)
    assert again.is_completed()
    assert task_states(again.state_details.flow_run_id) == {
        "train-stacked_lstm-r00": "Cached",
        "train-stacked_lstm-r01": "Cached",
    }
    assert {p: p.stat().st_mtime_ns for p in study.rglob("*.pt")} == mtimes  # nothing retrained
    assert read_metrics(study)["accuracy"].tolist() == metrics["accuracy"].tolist()


def test_flow_rejects_bad_parameters_before_running(prefect_harness: None, tmp_path: Path) -> None:
    with pytest.raises(ParameterTypeError, match="repeats"):
        train(repeats=0, data_home=str(tmp_path))
    with pytest.raises(ParameterTypeError, match="'lstm', 'cnn_lstm', 'convlstm', 'stacked_lstm'"):
        train(architectures=["gru"], data_home=str(tmp_path))
    assert not (tmp_path / "runs").exists()
