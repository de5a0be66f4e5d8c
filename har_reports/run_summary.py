"""The result of a pipeline run in a few lines, for the run an operator started: mean
accuracy per architecture (best first), regressions, and where the report is.

Built from the report's ``summary.json`` (see :func:`har_reports.compare.summary_record`).
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

from har_reports.published import display_name


def _num(x: SupportsFloat | str | None) -> float:
    return float("nan") if x is None else float(x)


def ranked(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary's architecture rows, best mean accuracy first (none completed last)."""
    rows = list(summary.get("architectures", []))
    return sorted(
        rows,
        key=lambda r: (math.isnan(_num(r.get("accuracy_mean"))), -_num(r.get("accuracy_mean"))),
    )


def _accuracy(row: dict[str, Any]) -> str:
    mean, std = _num(row.get("accuracy_mean")), _num(row.get("accuracy_std"))
    if math.isnan(mean):
        return "no completed run"
    return f"{mean:.2f} %" + ("" if math.isnan(std) else f" ± {std:.2f}")


def accuracy_lines(summary: dict[str, Any]) -> list[str]:
    """One log line per architecture: ``LSTM: mean test accuracy 91.20 % ± 0.85 (3/3 runs)``."""
    return [
        f"{display_name(r['architecture'])}: mean test accuracy {_accuracy(r)} "
        f"({r.get('completed', 0)}/{r.get('runs', 0)} runs)"
        for r in ranked(summary)
    ]


def summary_markdown(summary: dict[str, Any], link: str, path: str) -> str:
    """The markdown artifact of the pipeline run: leaderboard, warnings, report location."""
    lines = [f"# HAR study {summary.get('study_id', '?')}", ""]
    lines += [f"**WARNING:** {w}" for w in summary.get("warnings", [])]
    lines += ["", "| rank | architecture | mean test accuracy | runs done |", "|---|---|---|---|"]
    for rank, r in enumerate(ranked(summary), 1):
        lines.append(
            f"| {rank} | {display_name(r['architecture'])} | {_accuracy(r)} | "
            f"{r.get('completed', 0)}/{r.get('runs', 0)} |"
        )
    lines += [
        "",
        f"Protocol: {summary.get('protocol', '?')}; data sha256 "
        f"{str(summary.get('data_sha256', ''))[:12]}.",
        "",
        f"Report: [{link}]({link})",
        "",
        f"Report folder on the machine that wrote it: `{path}`",
    ]
    return "\n".join(lines) + "\n"
