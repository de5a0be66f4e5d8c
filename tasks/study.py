"""Study bookkeeping: metrics table and the Prefect table artifact, refreshed as runs finish."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from har_models.results import RunRecord, write_metrics
from tasks.settings import artifact_key


def summary_rows(records: list[RunRecord]) -> list[dict[str, object]]:
    return [
        {
            "run_id": r.run_id,
            "status": r.status,
            "accuracy": round(r.accuracy, 4),
            "macro_f1": round(r.macro_f1, 4),
            "epochs": r.epochs,
            "best_epoch": r.best_epoch,
            "s_per_epoch": round(r.seconds_per_epoch, 3),
            "device": r.device,
            "error": r.error[:200],
        }
        for r in sorted(records, key=lambda r: (r.architecture, r.repeat))
    ]


@task(name="record-progress", cache_policy=NO_CACHE)
def record_progress(records: list[RunRecord], study_dir: str, total: int) -> str:
    """Rewrite ``metrics.parquet`` (partial studies are visible) and the table artifact."""
    path = write_metrics(records, study_dir)
    study_id = Path(study_dir).name
    create_table_artifact(
        table=summary_rows(records),
        key=artifact_key(study_id),
        description=f"Study {study_id}: {len(records)} of {total} runs finished ({path})",
    )
    return str(path)
