"""What the operator's pipeline run says: leaderboard lines and the report's link."""

from __future__ import annotations

from pathlib import Path

from har_reports.links import report_link
from har_reports.run_summary import accuracy_lines, ranked, summary_markdown

SUMMARY = {
    "study_id": "scheduled-20261123T030000Z",
    "protocol": "published",
    "data_sha256": "0ddcb4028c2716bf",
    "warnings": ["LSTM got worse than study x: ..."],
    "architectures": [
        {"architecture": "lstm", "runs": 3, "completed": 3, "accuracy_mean": 90.1,
         "accuracy_std": 1.0},
        {"architecture": "cnn_lstm", "runs": 3, "completed": 3, "accuracy_mean": 91.5,
         "accuracy_std": None},
        {"architecture": "convlstm", "runs": 3, "completed": 0, "accuracy_mean": None,
         "accuracy_std": None},
    ],
}  # fmt: skip


def test_best_architecture_first_and_failed_ones_last() -> None:
    assert [r["architecture"] for r in ranked(SUMMARY)] == ["cnn_lstm", "lstm", "convlstm"]
    assert accuracy_lines(SUMMARY) == [
        "CNN-LSTM: mean test accuracy 91.50 % (3/3 runs)",
        "LSTM: mean test accuracy 90.10 % ± 1.00 (3/3 runs)",
        "ConvLSTM: mean test accuracy no completed run (0/3 runs)",
    ]


def test_summary_markdown_has_the_leaderboard_warnings_and_location() -> None:
    md = summary_markdown(SUMMARY, "http://h:8000/s/report.html", "/data/reports/s")
    assert "**WARNING:** LSTM got worse" in md
    assert "| 1 | CNN-LSTM | 91.50 % | 3/3 |" in md
    assert "[http://h:8000/s/report.html](http://h:8000/s/report.html)" in md
    assert "`/data/reports/s`" in md


def test_report_link_is_the_served_url_when_configured_else_the_file(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    study = reports / "study 1"
    assert report_link(study, reports, None) == (study / "report.html").resolve().as_uri()
    assert report_link(study, reports, "http://h:8000/") == "http://h:8000/study%201/report.html"
    assert report_link(study, reports, "http://h:8000/har") == (
        "http://h:8000/har/study%201/report.html"
    )
    elsewhere = tmp_path / "other" / "s"
    assert report_link(elsewhere, reports, "http://h:8000").startswith("file://")
