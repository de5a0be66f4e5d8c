"""Summaries, confidence intervals and pairwise tests over the repeats of a study.

Accuracy and F1 arrive as fractions in the metrics table; everything here reports percentage
points, the unit the published figures use.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from data_contracts.dataset import ACTIVITIES, OFFICIAL_ARCHIVE_SHA256
from har_models.protocol import MIN_VALIDATION_SUBJECTS
from har_reports.published import display_name

CONFIDENCE = 0.95
ALPHA = 0.05
# A t interval from two repeats spans tens of points (t = 12.7 at one degree of freedom):
# it says nothing, so none is shown below three.
MIN_CI_RUNS = 3

TESTS = {"welch": "Welch t-test", "mannwhitney": "Mann-Whitney U test"}


def completed(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics[metrics["status"] == "completed"]


def failed(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics[metrics["status"] != "completed"]


def data_sha256(metrics: pd.DataFrame) -> str:
    """The sha256 of the data the study was trained on ("" when no run recorded it)."""
    return next((s for s in metrics["data_sha256"].astype(str) if s), "")


def study_protocol(metrics: pd.DataFrame) -> str:
    """The study's protocol(s), as the report names them ("published", "validated")."""
    return ", ".join(sorted(set(metrics["protocol"].astype(str))))


def architectures(metrics: pd.DataFrame) -> list[str]:
    """Architectures in the order they appear (the metrics table is sorted by name)."""
    return list(dict.fromkeys(metrics["architecture"]))


def official_data(metrics: pd.DataFrame) -> bool:
    """Whether every completed run trained on the official UCI HAR data: ingest checked the
    official counts, or (records older than that field) the archive is the official copy."""
    done = completed(metrics)
    if done.empty:
        return False
    profiles = done["data_profile"].astype(str) if "data_profile" in done else None
    for i, sha in enumerate(done["data_sha256"].astype(str)):
        profile = profiles.iloc[i] if profiles is not None else ""
        if profile != "official" and not (profile == "" and sha in OFFICIAL_ARCHIVE_SHA256):
            return False
    return True


def small_validation(metrics: pd.DataFrame) -> dict[str, list[int]]:
    """run id -> its validation subjects, for completed runs that selected their epoch on
    fewer than :data:`MIN_VALIDATION_SUBJECTS` held-out subjects."""
    done = completed(metrics)
    if "validation_subjects" not in done:
        return {}
    return {
        r.run_id: [int(s) for s in r.validation_subjects]
        for r in done.itertuples()
        if r.protocol == "validated" and 0 < len(r.validation_subjects) < MIN_VALIDATION_SUBJECTS
    }


def mean_ci(
    values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Two-sided t-based interval for the mean; NaNs below :data:`MIN_CI_RUNS` values."""
    x = np.asarray(values, dtype=float)
    if x.size < MIN_CI_RUNS:
        return float("nan"), float("nan")
    half = sps.t.ppf(0.5 + confidence / 2, df=x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def describe(values: Sequence[float]) -> dict[str, float]:
    """mean, std (sample), median, min, max and the 95 % CI of the mean."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        nan = float("nan")
        return dict(mean=nan, std=nan, median=nan, min=nan, max=nan, ci_low=nan, ci_high=nan)
    lo, hi = mean_ci(x)
    return dict(
        mean=float(x.mean()),
        std=float(x.std(ddof=1)) if x.size > 1 else float("nan"),
        median=float(np.median(x)),
        min=float(x.min()),
        max=float(x.max()),
        ci_low=lo,
        ci_high=hi,
    )


def _first(series: pd.Series) -> object:
    values = series.dropna()
    values = values[values.astype(str) != ""]
    return values.iloc[0] if len(values) else None


def architecture_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per architecture: runs, accuracy and macro-F1 statistics (%), cost and device."""
    rows = []
    for arch in architectures(metrics):
        runs = metrics[metrics["architecture"] == arch]
        done = completed(runs)
        row: dict[str, object] = {
            "architecture": arch,
            "name": display_name(arch),
            "runs": len(runs),
            "completed": len(done),
            "failed": len(runs) - len(done),
        }
        for metric in ("accuracy", "macro_f1"):
            for key, value in describe(100 * done[metric].to_numpy(dtype=float)).items():
                row[f"{metric}_{key}"] = value
        row["n_params"] = int(done["n_params"].iloc[0]) if len(done) else None
        row["train_seconds_per_run"] = float(done["wall_time_s"].mean()) if len(done) else None
        row["train_seconds_per_epoch"] = (
            float(done["seconds_per_epoch"].mean()) if len(done) else None
        )
        row["epochs"] = int(done["epochs"].median()) if len(done) else None
        row["latency_ms_batch1"] = float(done["latency_ms_batch1"].mean()) if len(done) else None
        row["latency_ms_batch256"] = (
            float(done["latency_ms_batch256"].mean()) if len(done) else None
        )
        row["device"] = ", ".join(sorted(set(done["device"].astype(str)) - {""})) or None
        row["protocol"] = _first(runs["protocol"])
        rows.append(row)
    return pd.DataFrame(rows)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values (monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def _pvalue(a: np.ndarray, b: np.ndarray, test: str) -> float:
    if test == "welch":
        # No spread in either group (up to float noise): the t statistic is undefined.
        if np.ptp(a) <= 1e-9 and np.ptp(b) <= 1e-9:
            return 1.0 if np.isclose(a.mean(), b.mean(), rtol=0, atol=1e-9) else 0.0
        # From the summary statistics: scipy's ttest_ind warns (precision loss) when one
        # group is constant, a common case with few repeats; the test itself is still defined.
        sd_a, sd_b = (0.0 if np.ptp(x) <= 1e-9 else float(np.std(x, ddof=1)) for x in (a, b))
        return float(
            sps.ttest_ind_from_stats(
                a.mean(), sd_a, a.size, b.mean(), sd_b, b.size, equal_var=False
            ).pvalue
        )
    if test == "mannwhitney":
        return float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    raise ValueError(f"unknown test {test!r}; expected one of {sorted(TESTS)}")


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def pairwise_tests(metrics: pd.DataFrame, test: str = "welch") -> pd.DataFrame:
    """Every pair of architectures with at least two completed runs each, Holm-corrected.

    ``statement`` says it in plain words, e.g. "CNN-LSTM beats LSTM by 1.1 points, p = 0.01".
    """
    done = completed(metrics)
    accs = {
        arch: 100 * done.loc[done["architecture"] == arch, "accuracy"].to_numpy(dtype=float)
        for arch in architectures(metrics)
    }
    eligible = [a for a, x in accs.items() if x.size >= 2]
    rows = []
    for a, b in combinations(eligible, 2):
        if accs[b].mean() > accs[a].mean():
            a, b = b, a  # the better one first
        rows.append(
            {
                "better": a,
                "worse": b,
                "mean_better": float(accs[a].mean()),
                "mean_worse": float(accs[b].mean()),
                "difference": float(accs[a].mean() - accs[b].mean()),
                "n_better": int(accs[a].size),
                "n_worse": int(accs[b].size),
                "test": TESTS[test],
                "p_value": _pvalue(accs[a], accs[b], test),
            }
        )
    columns = [
        "better", "worse", "mean_better", "mean_worse", "difference", "n_better", "n_worse",
        "test", "p_value", "p_holm", "significant", "statement",
    ]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"])
    table["significant"] = table["p_holm"] < ALPHA
    table["statement"] = [_statement(r) for r in table.itertuples()]
    return table[columns].sort_values("p_holm", kind="stable").reset_index(drop=True)


def _statement(r: Any) -> str:
    """One comparison row (a ``DataFrame.itertuples`` row: its fields are the columns)."""
    a, b = display_name(r.better), display_name(r.worse)
    p = _fmt_p(r.p_holm)
    how = f"(Holm-corrected {r.test})"
    diff = r.difference
    if r.significant:
        return f"{a} beats {b} by {diff:.1f} points, {p} {how}."
    return f"{a} vs {b}: {diff:.1f} points apart, not significant, {p} {how}."


def per_class_f1(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean per-class F1 (%) over completed runs: one row per architecture, columns activities."""
    done = completed(metrics)
    rows = {}
    for arch in architectures(done):
        values = np.array(done.loc[done["architecture"] == arch, "per_class_f1"].tolist(), float)
        rows[arch] = 100 * values.mean(axis=0)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(ACTIVITIES))
    table.index.name = "architecture"
    return table.reset_index()


def per_subject_accuracy(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy (%) of each test subject over the completed runs that recorded it:
    one row per architecture (``runs``: how many), one ``subject_<id>`` column per subject.
    Empty when no run recorded it (runs trained before the field existed)."""
    done = completed(metrics)
    if "per_subject_accuracy" not in done.columns:
        return pd.DataFrame()
    rows = []
    for rec in done.itertuples():
        subjects, accs = list(rec.test_subjects), list(rec.per_subject_accuracy)
        rows += [
            {"architecture": rec.architecture, "run_id": rec.run_id, "subject": int(s), "acc": a}
            for s, a in zip(subjects, accs, strict=True)
        ]
    if not rows:
        return pd.DataFrame()
    long = pd.DataFrame(rows)
    order = architectures(long)
    table = long.pivot_table(index="architecture", columns="subject", values="acc", aggfunc="mean")
    table = (100 * table).reindex(order)
    table.columns = [f"subject_{s}" for s in table.columns]
    table.insert(0, "runs", long.groupby("architecture")["run_id"].nunique().reindex(order))
    return table.reset_index()


def hardest_subject(table: pd.DataFrame) -> tuple[int, float] | None:
    """(subject, mean accuracy %) of the subject with the lowest mean over architectures."""
    cols = [c for c in table.columns if c.startswith("subject_")]
    if not cols:
        return None
    means = table[cols].mean(axis=0)
    worst = means.idxmin()
    return int(worst.removeprefix("subject_")), float(means[worst])


def _confusions(runs: pd.DataFrame) -> np.ndarray:
    # Lists when built in memory, arrays of arrays when read back from Parquet.
    return np.array([[list(row) for row in c] for c in runs["confusion"]], dtype=float)


def mean_normalized_confusion(metrics: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per architecture, each run's confusion normalized by true-class row, averaged over runs."""
    done = completed(metrics)
    out = {}
    for arch in architectures(done):
        cms = _confusions(done[done["architecture"] == arch])
        rows = cms.sum(axis=2, keepdims=True)
        out[arch] = np.divide(cms, rows, out=np.zeros_like(cms), where=rows > 0).mean(axis=0)
    return out


CONFUSED_COLUMNS = [
    "architecture", "rank", "true", "predicted", "errors_per_run", "share_of_true_pct",
]  # fmt: skip


def confused_pairs(metrics: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """Per architecture, its ``top`` off-diagonal (true, predicted) cells by mean errors per
    run, ranked 1..top, with that mean as a share of the true class's windows: which model
    fails where, not an average over models that hides it."""
    done = completed(metrics)
    rows = []
    for arch in architectures(done):
        mean = _confusions(done[done["architecture"] == arch]).mean(axis=0)
        support = mean.sum(axis=1)
        cells = [
            (float(mean[i, j]), i, j)
            for i, j in zip(*np.nonzero(~np.eye(len(ACTIVITIES), dtype=bool)), strict=True)
            if mean[i, j] > 0
        ]
        cells.sort(key=lambda c: -c[0])
        for rank, (errors, i, j) in enumerate(cells[:top], 1):
            rows.append(
                {
                    "architecture": arch,
                    "rank": rank,
                    "true": ACTIVITIES[i],
                    "predicted": ACTIVITIES[j],
                    "errors_per_run": errors,
                    "share_of_true_pct": float(100 * errors / support[i]) if support[i] else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=CONFUSED_COLUMNS)


def learning_curves(metrics: pd.DataFrame, histories: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per architecture and epoch: mean and std over runs of every history column."""
    done = completed(metrics)
    frames = []
    for r in done.itertuples():
        h = histories.get(r.run_id)
        if h is not None and len(h):
            frames.append(h.assign(architecture=r.architecture, run_id=r.run_id))
    if not frames:
        return pd.DataFrame(columns=["architecture", "epoch", "runs"])
    long = pd.concat(frames, ignore_index=True)
    if "phase" in long:  # validated runs: the curves of the held-out-subject phase
        selection = long["phase"].isin(["select"])
        long = long[selection | ~long["run_id"].isin(long.loc[selection, "run_id"])]
    value_cols = [c for c in long.select_dtypes("number").columns if c not in ("epoch", "fold")]
    # one curve per run: a validated run's folds are averaged first, so the band is over runs
    long = long.groupby(["architecture", "run_id", "epoch"], sort=False, as_index=False)[
        value_cols
    ].mean()
    grouped = long.groupby(["architecture", "epoch"], sort=False)[value_cols]
    table = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std"))
    table["runs"] = long.groupby(["architecture", "epoch"], sort=False).size()
    return table.reset_index()
