"""Report tasks: read a study, compute its report, write it atomically, publish artifacts.

The computing and rendering are pure (``har_reports``); these tasks do the file and API I/O.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from har_data.atomic import atomic_dir
from har_data.layout import StudyLayout
from har_data.settings import get_settings
from har_models.results import read_metrics
from har_reports.compare import pick_previous
from har_reports.content import ReportContent, build_report
from har_reports.links import report_link
from har_reports.render import render_html, render_markdown

SUMMARY_FILE = "summary.json"
ARTIFACT_PREFIX = "har-report"


def artifact_key(name: str) -> str:
    """Stable lowercase keys, the same for every study: the UI keeps one history per key."""
    return f"{ARTIFACT_PREFIX}-{name.replace('_', '-')}"


@task(name="load-study", cache_policy=NO_CACHE)
def load_study(study: StudyLayout) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The metrics table and the per-epoch history of every run that has one."""
    root = study.root
    metrics = read_metrics(study)
    histories = {}
    for run_id, rel in zip(metrics["run_id"], metrics["history_path"], strict=True):
        if rel and (root / rel).is_file():
            histories[run_id] = pd.read_parquet(root / rel)
        elif rel:
            get_run_logger().warning("history of %s missing at %s", run_id, root / rel)
    return metrics, histories


@task(name="find-previous-report", cache_policy=NO_CACHE)
def find_previous(
    reports_dir: str,
    study_id: str,
    data_sha256: str,
    recipes: dict[str, Any] | None = None,
    protocol: str = "",
) -> dict[str, Any] | None:
    """The latest other report's ``summary.json`` on the same data, if any (preferring one
    with the same protocol and recipes: see :func:`har_reports.compare.pick_previous`)."""
    candidates = []
    for path in sorted(Path(reports_dir).glob(f"*/{SUMMARY_FILE}")):
        if path.parent.name.startswith("."):
            continue  # a report being written or replaced
        try:
            candidates.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            get_run_logger().warning("ignoring unreadable previous summary %s: %s", path, exc)
    return pick_previous(candidates, study_id, data_sha256, recipes, protocol)


@task(name="build-report", cache_policy=NO_CACHE)
def build(
    study_id: str,
    metrics: pd.DataFrame,
    histories: dict[str, pd.DataFrame],
    previous: dict[str, Any] | None,
) -> ReportContent:
    generated_at = datetime.now(UTC).isoformat(timespec="seconds")
    return build_report(study_id, metrics, histories, previous, generated_at)


def _write_files(content: ReportContent, folder: Path) -> None:
    (folder / "figures").mkdir()
    figure_paths = {}
    for name, png in content.figures.items():
        (folder / "figures" / f"{name}.png").write_bytes(png)
        figure_paths[name] = f"figures/{name}.png"
    (folder / "report.html").write_text(render_html(content), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(content, figure_paths), encoding="utf-8")
    for name, table in content.tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
        table.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / SUMMARY_FILE).write_text(json.dumps(content.summary, indent=2), encoding="utf-8")


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(content: ReportContent, report_dir: str) -> str:
    """Write every file into a hidden temp folder, then swap it in: no half-written report."""
    with atomic_dir(report_dir) as tmp:
        _write_files(content, tmp)
    return str(Path(report_dir).resolve())


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(table.to_json(orient="records", double_precision=4))


@task(name="publish-report-artifacts", cache_policy=NO_CACHE)
def publish_artifacts(content: ReportContent, report_dir: str) -> dict[str, str]:
    """A markdown summary, one table per summary table, a link to the HTML (its URL under
    ``HAR_REPORTS_URL`` when set, else its file); returns key → kind."""
    html_uri = report_link(report_dir, Path(report_dir).parent, get_settings().reports_url)
    keys = {}
    summary_md = render_markdown(content) + f"\n\nFull report with figures: {html_uri}\n"
    create_markdown_artifact(
        markdown=summary_md,
        key=artifact_key("summary"),
        description=f"HAR report for study {content.study_id}",
    )
    keys[artifact_key("summary")] = "markdown"
    for name, table in content.tables.items():
        create_table_artifact(
            table=_records(table),
            key=artifact_key(name),
            description=f"{name.replace('_', ' ')} of study {content.study_id}",
        )
        keys[artifact_key(name)] = "table"
    create_link_artifact(
        link=html_uri,
        link_text=f"HAR report {content.study_id} (HTML)",
        key=artifact_key("html"),
        description=f"Self-contained HTML report of study {content.study_id}",
    )
    keys[artifact_key("html")] = "link"
    return keys
