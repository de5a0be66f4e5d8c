"""The har-pipeline flow end to end on a synthetic archive (its command line: test_cli.py)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from uuid import UUID

import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterParentFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)

from data_contracts.dataset import OFFICIAL_URL
from flows.pipeline import pipeline
from har_data.layout import DataHome
from har_reports.content import FIGURES


def test_pipeline_ingests_trains_and_reports(
    synthetic_archive: Path, tmp_path: Path, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HAR_REPORTS_URL", "http://reports.test:8000/")
    state = pipeline(
        source=str(synthetic_archive),
        profile="custom",
        architectures=["lstm", "cnn_lstm"],
        repeats=2,
        epochs=1,
        data_home=str(home),
        study_id="pipe",
        return_state=True,
    )
    assert state.is_completed(), state
    report_dir = Path(state.result())
    assert report_dir == DataHome.resolve(home).report_dir("pipe").resolve()
    runs = pd.read_parquet(DataHome.resolve(home).study_dir("pipe") / "metrics.parquet")
    assert sorted(runs["run_id"]) == ["cnn_lstm-r00", "cnn_lstm-r01", "lstm-r00", "lstm-r01"]
    assert set(runs["status"]) == {"completed"} and set(runs["epochs"]) == {1}

    html = (report_dir / "report.html").read_text()
    for name in ("<td>LSTM</td>", "<td>CNN-LSTM</td>"):
        assert name in html
    assert html.count('src="data:image/png;base64,') == len(FIGURES)
    arch = pd.read_parquet(report_dir / "architectures.parquet").set_index("architecture")
    assert arch["completed"].to_dict() == {"cnn_lstm": 2, "lstm": 2}
    expected = runs.groupby("architecture")["accuracy"].mean() * 100
    assert arch["accuracy_mean"].to_dict() == pytest.approx(expected.to_dict())
    assert (report_dir / "report.md").read_text().startswith("# HAR study report: pipe")

    # The report subflow's artifacts are in the API under their stable keys.
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["har-report"])),
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(
                    any_=[state.state_details.flow_run_id]
                )
            ),
        )
        assert len(children) == 1
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[children[0].id])
            )
        )
    keys = {a.key for a in found}
    assert {"har-report-summary", "har-report-html", "har-report-architectures"} <= keys
    html_link = next(a for a in found if a.key == "har-report-html")
    assert "(http://reports.test:8000/pipe/report.html)" in str(html_link.data)  # the URL

    # The run the operator started carries the result too: leaderboard and report link.
    with get_client(sync_client=True) as client:
        on_parent = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    by_key = {a.key: a for a in on_parent}
    assert "(http://reports.test:8000/pipe/report.html)" in str(by_key["har-pipeline-report"].data)
    table = str(by_key["har-pipeline-summary"].data)
    assert "| 1 |" in table and "| 2 |" in table and "LSTM" in table and "CNN-LSTM" in table
    assert str(report_dir) in table
    messages = logged(state.state_details.flow_run_id, "report: ")
    for arch in ("LSTM", "CNN-LSTM"):
        assert any(m.startswith(f"{arch}: mean test accuracy") for m in messages), messages
    assert any(m.startswith("report: http://reports.test:8000/pipe/report.html") for m in messages)
    # Training logged its epochs (one line per epoch at most every few seconds).
    assert logged(None, "lstm-r00 epoch 1/1: loss")


def logged(flow_run_id: UUID | None, wanted: str, timeout: float = 30) -> list[str]:
    """Log messages (of one flow run, or all), polled until one contains ``wanted``: logs
    reach the API in batches."""
    flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])) if flow_run_id else None
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            messages = [log.message for log in client.read_logs(log_filter=flt, limit=200)]
        if any(wanted in m for m in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def test_a_default_study_id_is_the_prefix_and_the_start_time(
    synthetic_archive: Path, tmp_path: Path, prefect_harness: None
) -> None:
    home = tmp_path / "home"
    report_dir = pipeline(
        source=str(synthetic_archive), profile="custom", architectures=["lstm"], repeats=1,
        epochs=1, data_home=str(home), study_prefix="scheduled-",
    )  # fmt: skip
    study_id = Path(report_dir).name
    assert re.fullmatch(r"scheduled-\d{8}T\d{6}Z", study_id), study_id
    assert (DataHome.resolve(home).study_dir(study_id) / "metrics.parquet").is_file()


def test_source_defaults_to_har_source_then_official_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.ingest import resolve_source

    monkeypatch.setenv("HAR_SOURCE", "/data/env.zip")
    assert resolve_source(None) == "/data/env.zip"
    monkeypatch.delenv("HAR_SOURCE")
    assert resolve_source(None) == OFFICIAL_URL
