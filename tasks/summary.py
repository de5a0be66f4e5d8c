"""The result on the run an operator started (``har-pipeline``): log lines with each
architecture's mean accuracy and the report's location, a summary artifact and a link."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from har_data.settings import get_settings
from har_reports.links import report_link
from har_reports.run_summary import accuracy_lines, summary_markdown
from tasks.report import SUMMARY_FILE

SUMMARY_KEY = "har-pipeline-summary"
LINK_KEY = "har-pipeline-report"


def link_of(report_dir: str | Path) -> str:
    """The report's URL under ``HAR_REPORTS_URL`` when set, its file URI otherwise."""
    return report_link(report_dir, Path(report_dir).parent, get_settings().reports_url)


@task(name="publish-run-summary", cache_policy=NO_CACHE, persist_result=False)
def publish_run_summary(report_dir: str) -> str:
    """Log and publish the study's result on the current flow run; returns the report link."""
    logger = get_run_logger()
    summary = json.loads((Path(report_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))
    link = link_of(report_dir)
    for line in accuracy_lines(summary):
        logger.info(line)
    for warning in summary.get("warnings", []):
        logger.warning("REGRESSION: %s", warning)
    logger.info("report: %s (folder %s)", link, report_dir)
    study_id = summary.get("study_id", Path(report_dir).name)
    create_markdown_artifact(
        markdown=summary_markdown(summary, link, report_dir),
        key=SUMMARY_KEY,
        description=f"Result of HAR study {study_id}",
    )
    create_link_artifact(
        link=link,
        link_text=f"HAR report {study_id}",
        key=LINK_KEY,
        description=f"Report of HAR study {study_id}",
    )
    return link
