"""Where an operator opens a report: an HTTP URL when ``reports/`` is served
(``make reports``, ``HAR_REPORTS_URL``), else the file on the machine that wrote it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

REPORT_FILE = "report.html"


def report_link(report_dir: str | Path, reports_root: str | Path, base_url: str | None) -> str:
    """``<base_url>/<study-id>/report.html`` when ``base_url`` is set and the report lies
    under ``reports_root``; otherwise the ``file://`` URI of the report."""
    report = Path(report_dir).resolve() / REPORT_FILE
    if base_url:
        try:
            rel = report.relative_to(Path(reports_root).resolve())
        except ValueError:
            return report.as_uri()
        return base_url.rstrip("/") + "/" + quote(rel.as_posix())
    return report.as_uri()
