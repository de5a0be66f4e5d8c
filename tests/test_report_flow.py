"""The har-report flow on hand-written studies: files, HTML content, artifacts, regressions."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
    LogFilterLevel,
)

from flows.report import report
from har_data.layout import DataHome
from har_reports.content import FIGURES
from har_reports.sample import make_sample_study

ACCS = {
    "lstm": [0.89, 0.90, 0.88, 0.895],
    "cnn_lstm": [0.905, 0.91, 0.915, 0.90],
    "convlstm": [0.90, 0.912, 0.908, 0.91],
}
TABLES = (
    "leaderboard", "architectures", "published", "pairwise", "confused_pairs", "per_class_f1",
    "per_subject_accuracy", "runs", "provenance",
)  # fmt: skip


def run_report(study_id: str, home: Path) -> tuple[Path, UUID]:
    state = report(study_id=study_id, data_home=str(home), return_state=True)
    assert state.is_completed(), state
    return Path(state.result()), state.state_details.flow_run_id


def artifacts_of(flow_run_id: UUID) -> dict[str, tuple[str, object]]:
    """key → (type, data) of the artifacts a flow run created, read back from the API."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: (a.type, a.data) for a in found}


def warnings_of(flow_run_id: UUID, timeout: float = 30) -> list[str]:
    """Warning logs of a flow run (logs reach the API in batches: poll a little)."""
    deadline = time.monotonic() + timeout
    flt = LogFilter(
        flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]), level=LogFilterLevel(ge_=30)
    )
    while True:
        with get_client(sync_client=True) as client:
            messages = [log.message for log in client.read_logs(log_filter=flt)]
        if messages or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None):
    """One study (a failed run included) reported, then a worse retraining reported after it."""
    home = tmp_path_factory.mktemp("home")
    dh = DataHome.resolve(home)
    make_sample_study(dh.study_dir("study-a"), ACCS, failed={"convlstm": [3]})
    first = run_report("study-a", home)
    worse = {**ACCS, "lstm": [0.85, 0.855, 0.86, 0.845]}
    make_sample_study(dh.study_dir("study-b"), worse, seed=1)
    second = run_report("study-b", home)
    return home, first, second


def test_report_writes_every_file(reported) -> None:
    home, (report_dir, _), _ = reported
    assert report_dir == DataHome.resolve(home).report_dir("study-a").resolve()
    for name in ("report.html", "report.md", "summary.json"):
        assert (report_dir / name).stat().st_size > 0
    for table in TABLES:
        csv = pd.read_csv(report_dir / f"{table}.csv")
        assert csv.shape == pd.read_parquet(report_dir / f"{table}.parquet").shape
    for fig in FIGURES:
        assert (report_dir / "figures" / f"{fig}.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in report_dir.parent.iterdir() if p.name.startswith(".")]


def test_html_has_every_architecture_figure_and_failed_run(reported) -> None:
    _, (report_dir, _), _ = reported
    html = (report_dir / "report.html").read_text()
    for name in ("LSTM", "CNN-LSTM", "ConvLSTM"):
        assert f"<td>{name}</td>" in html
    for fig in FIGURES:
        assert f'<figure id="fig-{fig}"><img' in html
    assert html.count('src="data:image/png;base64,') == len(FIGURES)
    assert "http://" not in html and "https://" not in html  # opens offline
    assert "convlstm-r03: RuntimeError: boom" in html
    arch = pd.read_csv(report_dir / "architectures.csv").set_index("architecture")
    assert arch.loc["convlstm", ["completed", "failed"]].tolist() == [3, 1]


def test_artifacts_exist_with_stable_keys(reported) -> None:
    _, (report_dir, run_id), _ = reported
    found = artifacts_of(run_id)
    # Prefect stores a link artifact as markdown "[text](url)".
    expected = {"har-report-summary": "markdown", "har-report-html": "markdown"}
    expected.update({f"har-report-{t.replace('_', '-')}": "table" for t in TABLES})
    # No "previous" table: the first report has nothing to compare with.
    assert {k: kind for k, (kind, _) in found.items()} == expected
    assert f"({(report_dir / 'report.html').as_uri()})" in found["har-report-html"][1]
    assert "Best mean test accuracy" in found["har-report-summary"][1]
    assert "CNN-LSTM" in str(found["har-report-architectures"][1])


def test_worse_retraining_is_flagged_first_and_logged(reported) -> None:
    _, _, (report_dir, run_id) = reported
    md = (report_dir / "report.md").read_text().splitlines()
    assert md[2].startswith("- **WARNING: LSTM got worse than study study-a")
    assert "CNN-LSTM got worse" not in "\n".join(md)
    html = (report_dir / "report.html").read_text()
    assert html.index('class="warning"') < html.index("<h2>")
    previous = pd.read_csv(report_dir / "previous.csv").set_index("architecture")
    assert previous.loc["lstm", "regression"] and not previous.loc["cnn_lstm", "regression"]
    assert artifacts_of(run_id)["har-report-previous"][0] == "table"
    warnings = warnings_of(run_id)
    assert any("REGRESSION: LSTM got worse than study study-a" in w for w in warnings)


def test_single_architecture_single_repeat(tmp_path: Path, prefect_harness: None) -> None:
    make_sample_study(DataHome.resolve(tmp_path).study_dir("solo"), {"cnn_lstm": [0.91]})
    report_dir, _ = run_report("solo", tmp_path)
    md = (report_dir / "report.md").read_text()
    assert "nothing to test it against" in md and "No pairwise test" in md
    assert pd.read_parquet(report_dir / "pairwise.parquet").empty


def test_missing_study_names_the_folder(tmp_path: Path, prefect_harness: None) -> None:
    with pytest.raises(FileNotFoundError, match=r"runs/nope/metrics\.parquet"):
        report(study_id="nope", data_home=str(tmp_path))
