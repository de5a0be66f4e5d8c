"""Everything a report says, computed once and rendered to HTML, Markdown, tables and artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from har_models.protocol import DESCRIPTIONS, MIN_VALIDATION_SUBJECTS
from har_reports import plots, stats
from har_reports.compare import compare_with_previous, regression_lines, summary_record
from har_reports.leaderboard import leaderboard
from har_reports.provenance import provenance_headline, provenance_table, recipes
from har_reports.published import PUBLISHED, display_name

# Figure name → caption; the names are the ids in the HTML and the PNG file names.
FIGURES = {
    "accuracy": "Test accuracy of every repeat per architecture, published figures beside.",
    "confusion": "Normalized confusion matrices averaged over repeats (rows: true activity).",
    "learning_curves": "Learning curves: mean over repeats with a ±1 std band.",
    "per_class_f1": "Per-class F1 by architecture.",
}


@dataclass
class ReportContent:
    study_id: str
    generated_at: str
    data_sha256: str
    protocol: str
    warnings: list[str]  # regressions: the first lines of the report and warnings in the log
    headline: list[str]
    notes: list[str]  # what could not be computed and why
    tables: dict[str, pd.DataFrame]  # name → table (numbers, percent), saved as CSV and Parquet
    figures: dict[str, bytes] = field(default_factory=dict)  # name → PNG
    previous_id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)  # stored for the next comparison
    # What the data cannot support (e.g. validation on too few subjects): shown and logged
    # as warnings after the regressions.
    data_warnings: list[str] = field(default_factory=list)


def published_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Our mean ± std beside the published one, each with its protocol."""
    rows = []
    for r in summary.itertuples():
        pub = PUBLISHED.get(r.architecture)
        rows.append(
            {
                "architecture": r.architecture,
                "ours_mean": r.accuracy_mean,
                "ours_std": r.accuracy_std,
                "ours_runs": r.completed,
                "ours_protocol": r.protocol,
                "published_mean": pub.mean if pub else None,
                "published_std": pub.std if pub else None,
                "published_runs": pub.repeats if pub else None,
                "published_protocol": pub.protocol if pub else "no published figure",
                "published_source": pub.source if pub else None,
                "difference": r.accuracy_mean - pub.mean if pub else None,
            }
        )
    return pd.DataFrame(rows)


RUN_COLUMNS = [
    "run_id", "architecture", "repeat", "seed", "protocol", "status", "accuracy", "macro_f1",
    "epochs", "best_epoch", "averaged_epochs", "wall_time_s", "device", "error",
]  # fmt: skip


def runs_table(metrics: pd.DataFrame) -> pd.DataFrame:
    table = with_averaged_epochs(metrics)[RUN_COLUMNS].copy()
    table["accuracy"] = 100 * table["accuracy"]
    table["macro_f1"] = 100 * table["macro_f1"]
    table["checkpoint"] = checkpoint_paths(metrics)
    return table.reset_index(drop=True)


def with_averaged_epochs(metrics: pd.DataFrame) -> pd.DataFrame:
    """The metrics with ``averaged_epochs``: runs recorded before it existed kept their last
    epoch's own weights (1)."""
    if "averaged_epochs" in metrics:
        return metrics.assign(averaged_epochs=metrics["averaged_epochs"].fillna(1).astype(int))
    return metrics.assign(averaged_epochs=1)


def protocol_descriptions(metrics: pd.DataFrame) -> str:
    """What each protocol of the study did, as :data:`har_models.protocol.DESCRIPTIONS` says;
    for ``validated`` runs trained before the refit kept averaged weights, what they did."""
    runs = with_averaged_epochs(metrics)
    parts = []
    for protocol in sorted(set(runs["protocol"].astype(str))):
        text = DESCRIPTIONS.get(protocol, "unknown protocol")
        mine = runs[runs["protocol"].astype(str) == protocol]
        if protocol == "validated" and (mine["averaged_epochs"] == 1).all():
            text += " (not these runs: trained before that, each keeps its own last weights)"
        parts.append(f"{protocol}: {text}")
    return "; ".join(parts)


def checkpoint_paths(metrics: pd.DataFrame) -> list[str]:
    """Each run's checkpoint relative to the data home (``runs/<study>/checkpoints/...``)."""
    return [
        f"runs/{study}/{path}" if path else ""
        for study, path in zip(metrics["study_id"], metrics["checkpoint_path"], strict=True)
    ]


def comparison_notes(previous_id: str, comparison: pd.DataFrame) -> list[str]:
    """Why architectures of the previous study were not compared (recipe or protocol)."""
    skipped = comparison[comparison["note"].astype(str).str.startswith("not compared")]
    if skipped.empty:
        return []
    if len(skipped) == len(comparison):
        return [f"Not compared with study {previous_id} (same data): {skipped['note'].iloc[0]}."]
    return [
        f"{display_name(r.architecture)} not compared with study {previous_id}: "
        f"{str(r.note).removeprefix('not compared: ')}."
        for r in skipped.itertuples()
    ]


def _pm(mean: float, std: float) -> str:
    return f"{mean:.2f} %" if pd.isna(std) else f"{mean:.2f} ± {std:.2f} %"


def build_report(
    study_id: str,
    metrics: pd.DataFrame,
    histories: dict[str, pd.DataFrame],
    previous: dict[str, Any] | None,
    generated_at: str,
) -> ReportContent:
    """Compute every table, sentence and figure of the report for one study."""
    if metrics.empty:
        raise ValueError(f"study {study_id!r} has no runs in its metrics table")
    summary = stats.architecture_summary(metrics)
    done = stats.completed(metrics)
    bad = stats.failed(metrics)
    protocol = stats.study_protocol(metrics)
    sha = stats.data_sha256(metrics)
    official = stats.official_data(metrics)
    pairwise = stats.pairwise_tests(metrics)
    tables: dict[str, pd.DataFrame] = {
        "leaderboard": leaderboard(summary, published=official),
        "architectures": summary,
        "published": published_table(summary),
        "pairwise": pairwise,
        "confused_pairs": stats.confused_pairs(metrics),
        "per_class_f1": stats.per_class_f1(metrics),
        "runs": runs_table(metrics),
    }
    if not official:  # the published figures were measured on the official data only
        del tables["published"]
    per_subject = stats.per_subject_accuracy(metrics)
    if len(per_subject):
        tables["per_subject_accuracy"] = per_subject

    warnings: list[str] = []
    previous_id = None
    used = recipes(metrics)
    comparison_skips: list[str] = []
    if previous is not None:
        previous_id = str(previous["study_id"])
        tables["previous"] = compare_with_previous(summary, previous, used, protocol)
        warnings = regression_lines(tables["previous"], previous_id)
        comparison_skips = comparison_notes(previous_id, tables["previous"])
    tables["provenance"] = provenance_table(metrics)

    headline = [f"Study {study_id}: {len(metrics)} runs, protocol {protocol}."]
    headline += provenance_headline(metrics)
    ranked = summary.dropna(subset=["accuracy_mean"]).sort_values("accuracy_mean", ascending=False)
    if len(ranked):
        best = ranked.iloc[0]
        headline.append(
            f"Best mean test accuracy: {best['name']} at "
            f"{_pm(best.accuracy_mean, best.accuracy_std)} over {best.completed} run(s)."
        )
    if len(bad):
        headline.append(f"{len(bad)} run(s) failed: {', '.join(bad['run_id'])} (listed below).")
    hardest = stats.hardest_subject(per_subject)
    if hardest:
        headline.append(
            f"Hardest test subject: {hardest[0]}, {hardest[1]:.1f} % mean accuracy "
            "(per-subject table below)."
        )
    if previous_id and not warnings and not comparison_skips:
        headline.append(
            f"Compared with study {previous_id}: no architecture dropped by more than the spread "
            "of its repeats."
        )

    notes = []
    n_archs = done["architecture"].nunique()
    if n_archs == 1:
        notes.append("Only one architecture completed: there is nothing to test it against.")
    thin = [display_name(a) for a in summary.loc[summary["completed"] < 2, "architecture"]]
    if thin:
        notes.append(
            f"Fewer than two completed repeats for {', '.join(thin)}: no standard deviation, "
            "confidence interval or significance test for them."
        )
    two = [display_name(a) for a in summary.loc[summary["completed"] == 2, "architecture"]]
    if two:
        notes.append(
            f"Two completed repeats for {', '.join(two)}: no confidence interval (it needs at "
            f"least {stats.MIN_CI_RUNS} repeats to mean anything)."
        )
    if len(done) and not official:
        notes.append(
            f"The data (sha256 {sha[:12] or 'unknown'}) is not the official UCI HAR data (it "
            "was ingested with --profile custom): its figures are not set against the "
            "published ones, which were measured on the official data."
        )
    if set(metrics["protocol"].astype(str)) != {"published"}:
        notes.append(
            f"This study used the {protocol} protocol ({protocol_descriptions(metrics)}); every "
            "published figure used fixed epochs evaluated once on test, so set them side by "
            "side with that in mind."
        )
    if previous is None:
        notes.append("No earlier report on the same data to compare with.")
    notes += comparison_skips
    if len(done) and per_subject.empty:
        notes.append(
            "No run recorded per-subject accuracy (trained before it was recorded): "
            "no per-subject table."
        )

    data_warnings = []
    small = stats.small_validation(metrics)
    if small:
        fewest = min(small.values(), key=len)
        example = next(rid for rid, ids in small.items() if ids == fewest)
        data_warnings.append(
            f"Validation rests on fewer than {MIN_VALIDATION_SUBJECTS} subjects: "
            f"{len(small)} run(s) chose their epoch on {len(fewest)} held-out training "
            f"subject(s) (e.g. {example}: subject(s) {', '.join(map(str, fewest))}), too few "
            "people for early stopping to be reliable; use data with more training subjects."
        )

    content = ReportContent(
        study_id=study_id,
        generated_at=generated_at,
        data_sha256=sha,
        protocol=protocol,
        warnings=warnings,
        headline=headline,
        notes=notes,
        tables=tables,
        previous_id=previous_id,
        summary=summary_record(study_id, generated_at, sha, protocol, summary),
        data_warnings=data_warnings,
    )
    content.summary["warnings"] = warnings  # the pipeline run's summary repeats them
    content.summary["recipes"] = used  # the next report compares only like with like
    if len(done):
        colors = plots.architecture_colors(stats.architectures(metrics))
        content.figures = {
            "accuracy": plots.accuracy_plot(metrics, colors, published=official),
            "confusion": plots.confusion_plot(stats.mean_normalized_confusion(metrics), colors),
            "learning_curves": plots.learning_curves_plot(
                stats.learning_curves(metrics, histories), colors
            ),
            "per_class_f1": plots.per_class_f1_plot(tables["per_class_f1"], colors),
        }
    else:
        notes.append("No run completed: no figures.")
    return content
