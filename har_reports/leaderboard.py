"""The table a report opens with: every model of the study, best first, with what it costs.

One row per architecture: family (seed port, baseline, new), protocol, runs, accuracy and
macro-F1 (mean ± std, percent), parameters, training seconds per run, latency per window
and the published figure where there is one.
"""

from __future__ import annotations

import pandas as pd

from har_models.registry import REGISTRY
from har_reports.published import PUBLISHED, display_name

LEADERBOARD_COLUMNS = [
    "rank", "architecture", "name", "family", "protocol", "runs", "accuracy_mean",
    "accuracy_std", "macro_f1_mean", "macro_f1_std", "n_params", "train_seconds_per_run",
    "latency_ms_batch1", "published_mean", "published_std", "published_runs",
]  # fmt: skip


def family_of(architecture: str) -> str:
    spec = REGISTRY.get(architecture)
    return spec.family if spec is not None else "unregistered"


def leaderboard(summary: pd.DataFrame, published: bool = True) -> pd.DataFrame:
    """``har_reports.stats.architecture_summary`` as a ranked table (completed runs only);
    the published figures only where ``published`` (the study ran on the official data)."""
    rows = []
    for r in summary.itertuples():
        if not r.completed:
            continue
        pub = PUBLISHED.get(r.architecture) if published else None
        rows.append(
            {
                "architecture": r.architecture,
                "name": display_name(r.architecture),
                "family": family_of(r.architecture),
                "protocol": r.protocol,
                "runs": r.completed,
                "accuracy_mean": r.accuracy_mean,
                "accuracy_std": r.accuracy_std,
                "macro_f1_mean": r.macro_f1_mean,
                "macro_f1_std": r.macro_f1_std,
                "n_params": r.n_params,
                "train_seconds_per_run": r.train_seconds_per_run,
                "latency_ms_batch1": r.latency_ms_batch1,
                "published_mean": pub.mean if pub else None,
                "published_std": pub.std if pub else None,
                "published_runs": pub.repeats if pub else None,
            }
        )
    if not rows:
        return pd.DataFrame(columns=LEADERBOARD_COLUMNS)
    table = pd.DataFrame(rows).sort_values(
        ["accuracy_mean", "macro_f1_mean"], ascending=False, kind="stable"
    )
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[LEADERBOARD_COLUMNS].reset_index(drop=True)
