"""What a study trained and on what: the recipe of every architecture and what the study
overrode, code and torch versions, device and hardware, wall time, checkpoint paths.

Kept apart from :mod:`har_reports.content` so the report's other parts can change freely;
:func:`provenance_headline` and :func:`provenance_table` are all it adds to a report.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd

from har_reports.published import display_name

PROVENANCE_COLUMNS = [
    "architecture", "recipe", "overrides", "code_version", "torch_version", "device",
    "hardware", "runs", "training_seconds",
]  # fmt: skip
# How recipe fields read in a sentence.
_FIELD_NAMES = {"batch_size": "batch", "lr": "lr", "weight_decay": "weight decay", "eps": "eps"}


def _json(text: object) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _column(metrics: pd.DataFrame, name: str) -> pd.Series:
    """A record field, empty for studies recorded before the field existed."""
    return metrics[name] if name in metrics else pd.Series([""] * len(metrics), index=metrics.index)


def recipes(metrics: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Architecture → the recipe its runs trained with (first recorded; {} when none was)."""
    found: dict[str, dict[str, Any]] = {}
    for arch, text in zip(metrics["architecture"], _column(metrics, "recipe"), strict=True):
        if not found.get(arch):
            found[arch] = _json(text)
    return found


def overrides(metrics: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Architecture → what the study changed in the registry's recipe (only non-empty)."""
    found: dict[str, dict[str, Any]] = {}
    for arch, text in zip(metrics["architecture"], _column(metrics, "overrides"), strict=True):
        changed = _json(text)
        if changed:
            found.setdefault(arch, changed)
    return found


def describe_recipe(recipe: dict[str, Any]) -> str:
    """``15 epochs, batch 64, Adam lr 0.001, eps 1e-07, weight decay 0, shuffled, raw input``"""
    if not recipe:
        return "not recorded"
    parts = [f"{recipe.get('epochs')} epochs", f"batch {recipe.get('batch_size')}"]
    parts.append(f"Adam lr {recipe.get('lr')}, eps {recipe.get('eps')}")
    parts.append(f"weight decay {recipe.get('weight_decay')}")
    parts.append("shuffled" if recipe.get("shuffle", True) else "batches in file order")
    parts.append("standardized input" if recipe.get("standardize") else "raw input")
    if recipe.get("patience") is not None:
        parts.append(f"patience {recipe['patience']} (validated protocol)")
    return ", ".join(parts)


def _describe_overrides(changed: dict[str, Any]) -> str:
    return ", ".join(f"{_FIELD_NAMES.get(k, k)}={v}" for k, v in sorted(changed.items()))


def _span_seconds(metrics: pd.DataFrame) -> float | None:
    """First run's start to last run's end (a resumed study includes the pause)."""
    starts = [s for s in _column(metrics, "started_at").astype(str) if s]
    ends = [s for s in _column(metrics, "finished_at").astype(str) if s]
    if not starts or not ends:
        return None
    first, last = min(map(datetime.fromisoformat, starts)), max(map(datetime.fromisoformat, ends))
    return (last - first).total_seconds()


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _values(metrics: pd.DataFrame, name: str) -> str:
    return ", ".join(sorted(set(_column(metrics, name).astype(str)) - {"", "nan"})) or "unknown"


def provenance_headline(metrics: pd.DataFrame) -> list[str]:
    """Headline lines: overrides first (they change what the numbers mean), the recipes,
    then code, torch, hardware and time."""
    lines = []
    changed = overrides(metrics)
    if changed:
        archs = list(dict.fromkeys(metrics["architecture"]))
        same = [_describe_overrides(c) for c in changed.values()]
        if len(changed) == len(archs) and len(set(same)) == 1:
            what = f"{same[0]} for every architecture"
        else:
            what = "; ".join(
                f"{display_name(a)} {_describe_overrides(c)}" for a, c in changed.items()
            )
        lines.append(
            f"OVERRIDDEN RECIPE: {what}. Published figures and earlier studies used the "
            "recipes below without it: compare with care."
        )
    lines.append(
        "Recipes: "
        + "; ".join(f"{display_name(a)}: {describe_recipe(r)}" for a, r in recipes(metrics).items())
        + "."
    )
    done = metrics[metrics["status"] == "completed"]
    train_s = float(done["wall_time_s"].sum()) if len(done) else 0.0
    span = _span_seconds(metrics)
    timing = f"training {_duration(train_s)} summed over runs"
    if span is not None:
        timing = f"study wall time {_duration(span)} (first run start to last run end), " + timing
    lines.append(
        f"Code {_values(metrics, 'version')}, torch {_values(metrics, 'torch_version')}, "
        f"device {_values(done, 'device')} ({_values(done, 'hardware')}); {timing}."
    )
    return lines


def provenance_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per architecture: recipe, overrides, versions, device, hardware, time."""
    rows = []
    recipe_of, changed = recipes(metrics), overrides(metrics)
    for arch in dict.fromkeys(metrics["architecture"]):
        runs = metrics[metrics["architecture"] == arch]
        done = runs[runs["status"] == "completed"]
        rows.append(
            {
                "architecture": arch,
                "recipe": describe_recipe(recipe_of.get(arch, {})),
                "overrides": _describe_overrides(changed.get(arch, {})) or "none",
                "code_version": _values(runs, "version"),
                "torch_version": _values(runs, "torch_version"),
                "device": _values(done, "device"),
                "hardware": _values(done, "hardware"),
                "runs": len(runs),
                "training_seconds": float(done["wall_time_s"].sum()) if len(done) else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=PROVENANCE_COLUMNS)
