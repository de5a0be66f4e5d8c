"""The ``har-report`` flow: a study's results → ``reports/<study-id>/`` and Prefect artifacts.

Run: ``har report STUDY_ID [--data-home DIR]``.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.help import documented
from har_data.home_check import check_data_home
from har_reports.provenance import recipes
from har_reports.stats import data_sha256, study_protocol
from tasks.report import build, find_previous, load_study, publish_artifacts, write_report


@flow(name="har-report", log_prints=True)
@documented(study_id="The study to report (a folder under ``runs/``; see ``har studies``).")
def report(study_id: str, data_home: str | None = None) -> str:
    """Write the comparison report of a trained study; returns the report folder.

    The report (``reports/<study_id>/report.html``, Markdown, tables as CSV and Parquet)
    compares the architectures, with the published figures and the previous study on the
    same data; its summary and tables are also Prefect artifacts.
    """
    logger = get_run_logger()
    home = check_data_home(data_home, ("reports",))
    metrics, histories = load_study(home.study(study_id))
    previous = find_previous(
        str(home.reports), study_id, data_sha256(metrics), recipes(metrics), study_protocol(metrics)
    )
    content = build(study_id, metrics, histories, previous)
    for line in content.warnings:
        logger.warning("REGRESSION: %s", line)
    for line in content.data_warnings:
        logger.warning("%s", line)
    report_dir = write_report(content, str(home.report_dir(study_id)))
    publish_artifacts(content, report_dir)
    logger.info("report of study %s: %s/report.html", study_id, report_dir)
    return report_dir
