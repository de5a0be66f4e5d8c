"""Study bookkeeping: the metrics table (rebuilt from every record on disk) and the Prefect
table artifact, refreshed as runs finish."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.params import artifact_key
from har_data.layout import StudyLayout
from har_models.results import RunRecord, read_records, rebuild_metrics, save_record


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


@task(name="record-failure", cache_policy=NO_CACHE, persist_result=False)
def record_failure(record: RunRecord, study: StudyLayout) -> None:
    """Keep the failure in the study folder: the table and the report list it."""
    save_record(record, study)


@task(name="record-progress", cache_policy=NO_CACHE, persist_result=False)
def record_progress(study: StudyLayout, total: int) -> str:
    """Rebuild ``metrics.parquet`` from the records on disk, and the table artifact."""
    path = rebuild_metrics(study)
    records, problems = read_records(study)
    for problem in problems:
        get_run_logger().warning("%s", problem)
    create_table_artifact(
        table=summary_rows(records),
        key=artifact_key(study.study_id),
        description=f"Study {study.study_id}: {len(records)} runs recorded of {total} "
        f"planned ({path})",
    )
    return str(path)


def remove_if_empty(study: StudyLayout) -> bool:
    """Remove a study folder that holds no file but locks: a study stopped before any run
    wrote a record leaves nothing behind. Returns whether it was removed."""
    root = study.root
    if not root.is_dir():
        return False
    files = [p for p in root.rglob("*") if not p.is_dir()]
    if any(not p.name.endswith(".lock") for p in files):
        return False
    try:
        for path in files:
            path.unlink(missing_ok=True)
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
            folder.rmdir()
        root.rmdir()
    except OSError:  # something was written meanwhile: keep it
        return False
    return True


class StudyFailed(RuntimeError):
    """Not one run of the study completed: there is nothing to report."""


@task(name="check-study-outcome", cache_policy=NO_CACHE, persist_result=False)
def check_outcome(study: StudyLayout, run_ids: list[str]) -> int:
    """The number of this plan's runs that completed, from the records on disk; fails the
    flow (a non-zero exit) when none did, and warns when some did not."""
    records = {r.run_id: r for r in read_records(study)[0]}
    planned = [records[rid] for rid in run_ids if rid in records]
    done = [r for r in planned if r.status == "completed"]
    failed = [r for r in planned if r.status != "completed"]
    if not done:
        first = failed[0].error.splitlines()[-1] if failed and failed[0].error else "no record"
        raise StudyFailed(
            f"study {study.study_id}: all {len(run_ids)} runs failed, none completed; "
            f"first error ({failed[0].run_id if failed else run_ids[0]}): {first}. "
            f"Every run's error is in {study.metrics}."
        )
    if failed:
        get_run_logger().warning(
            "study %s: %d of %d runs failed (%s); the report lists them",
            study.study_id,
            len(failed),
            len(run_ids),
            ", ".join(r.run_id for r in failed),
        )
    return len(done)
