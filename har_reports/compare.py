"""What moved since the previous study on the same data: the check a scheduled retraining needs.

Every report dir keeps a small ``summary.json`` (see :func:`summary_record`); the next report picks
the latest one for the same data and flags architectures whose mean accuracy dropped by more than
the spread (standard deviation) of the repeats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, SupportsFloat

import pandas as pd

from har_reports.published import display_name

SUMMARY_FIELDS = ("architecture", "runs", "completed", "accuracy_mean", "accuracy_std")
COLUMNS = [
    "architecture", "accuracy_mean", "previous_mean", "change", "accuracy_std", "previous_std",
    "spread", "regression", "note",
]  # fmt: skip


def summary_record(
    study_id: str, generated_at: str, data_sha256: str, protocol: str, summary: pd.DataFrame
) -> dict[str, Any]:
    """The JSON-ready record stored beside each report for the next one to compare against."""
    rows = summary[list(SUMMARY_FIELDS)].astype(object).where(summary.notna(), None)
    return {
        "study_id": study_id,
        "generated_at": generated_at,
        "data_sha256": data_sha256,
        "protocol": protocol,
        "architectures": rows.to_dict(orient="records"),
    }


def recipe_mismatch(
    architecture: str, recipes: dict[str, Any] | None, previous: dict[str, Any]
) -> str:
    """Why ``architecture`` of ``previous`` is not comparable with ours ("" when it is):
    both recipes must be recorded and equal."""
    if recipes is None:
        return ""
    ours = recipes.get(architecture) or {}
    theirs = (previous.get("recipes") or {}).get(architecture) or {}
    if not ours or not theirs:
        return "not compared: recipe not recorded"
    diff = [
        f"{k} {ours.get(k)} vs {theirs.get(k)}"
        for k in sorted(ours)
        if ours.get(k) != theirs.get(k)
    ]
    return f"not compared: recipe differs ({', '.join(diff)})" if diff else ""


def comparable(previous: dict[str, Any], recipes: dict[str, Any] | None, protocol: str) -> bool:
    """Same protocol and at least one architecture with the same recipe."""
    if protocol and previous.get("protocol") != protocol:
        return False
    archs = [r.get("architecture") for r in previous.get("architectures", [])]
    return any(not recipe_mismatch(str(a), recipes, previous) for a in archs)


def pick_previous(
    candidates: Iterable[dict[str, Any]],
    study_id: str,
    data_sha256: str,
    recipes: dict[str, Any] | None = None,
    protocol: str = "",
) -> dict[str, Any] | None:
    """The latest summary of another study on the same data (any data when ours is unknown);
    with ``recipes`` (and ``protocol``), the latest one they can be compared with is
    preferred, else the latest on the same data (the report then says why it is skipped)."""
    same = [
        c
        for c in candidates
        if c.get("study_id") != study_id
        and (not data_sha256 or c.get("data_sha256") == data_sha256)
    ]
    matching = [c for c in same if recipes is None or comparable(c, recipes, protocol)]
    return _latest(matching) or _latest(same)


def _latest(summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(summaries, key=lambda c: c.get("generated_at", ""), default=None)


def _num(x: SupportsFloat | str | None) -> float:
    return float("nan") if x is None else float(x)


def compare_with_previous(
    summary: pd.DataFrame,
    previous: dict[str, Any],
    recipes: dict[str, Any] | None = None,
    protocol: str = "",
) -> pd.DataFrame:
    """Per architecture present in both: change in mean accuracy (points), flagged regressions.

    A drop is a regression when it exceeds the larger of the two studies' standard deviations;
    with no spread at all (single repeats) any drop is flagged, and the note says why. With
    ``recipes``, an architecture whose recipe (or the study's protocol) differs is listed
    but not compared: its change is empty and the note says why.
    """
    before = {r["architecture"]: r for r in previous.get("architectures", [])}
    other_protocol = bool(protocol) and previous.get("protocol") != protocol
    rows = []
    for r in summary.itertuples():
        if r.architecture not in before:
            continue
        prev = before[r.architecture]
        mean_now, mean_then = _num(r.accuracy_mean), _num(prev.get("accuracy_mean"))
        std_now, std_then = _num(r.accuracy_std), _num(prev.get("accuracy_std"))
        stds = [s for s in (std_now, std_then) if not math.isnan(s)]
        spread = max(stds) if stds else float("nan")
        change = mean_now - mean_then
        mismatch = recipe_mismatch(r.architecture, recipes, previous)
        if other_protocol:
            mismatch = f"not compared: protocol {previous.get('protocol')} vs {protocol}"
        if mismatch:
            change, regression, note = float("nan"), False, mismatch
        elif math.isnan(change):
            regression, note = False, "no completed runs to compare"
        elif stds:
            regression = change < -spread
            note = f"drop larger than the spread ({spread:.2f} points)" if regression else ""
        else:
            regression = change < 0
            note = "no spread (single repeats): any drop is flagged" if regression else ""
        rows.append(
            {
                "architecture": r.architecture,
                "accuracy_mean": mean_now,
                "previous_mean": mean_then,
                "change": change,
                "accuracy_std": std_now,
                "previous_std": std_then,
                "spread": spread,
                "regression": bool(regression),
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def regression_lines(comparison: pd.DataFrame, previous_id: str) -> list[str]:
    """One plain sentence per regressed architecture, for the report's head and the log."""
    return [
        f"{display_name(r.architecture)} got worse than study {previous_id}: mean accuracy "
        f"{r.accuracy_mean:.2f}% vs {r.previous_mean:.2f}% ({r.change:+.2f} points, {r.note})."
        for r in comparison.itertuples()
        if r.regression
    ]
