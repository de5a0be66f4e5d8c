"""The training flow's Prefect task around :func:`har_models.run.train_one_run`.

Prefect gives it retries, a task run per run and logs. Its cache is the run record (plain
JSON in the study folder), not Prefect's persisted results: a persisted result names its own
serializer (pickle included), so whoever can write to a shared data home could run code on
every worker that reads it. A reused run ends in a state named ``Cached``.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import Completed, State

from har_data.settings import get_settings
from har_models.checkpoint import CheckpointError
from har_models.progress import EpochProgress
from har_models.protocol import MIN_VALIDATION_SUBJECTS
from har_models.results import RecordError, RunRecord
from har_models.run import RunParams, cache_key, cached_record, train_one_run, train_repeats
from har_models.stop import Interrupted, stop_on_signals, stop_requested

# Errors that a second attempt cannot fix: bad parameters or data, a missing file.
DETERMINISTIC_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    FileNotFoundError,
    NotADirectoryError,
    PermissionError,
    RecordError,
    CheckpointError,
    Interrupted,  # asked to stop: a retry would start it again
)


def retry_transient(task: object, task_run: TaskRun, state: State) -> bool:
    """Retry crashes and resource errors; never a deterministic error, nor after a stop."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, DETERMINISTIC_ERRORS) and not stop_requested()


def train_logged(params: RunParams) -> RunRecord:
    """Train one run with per-epoch progress in the run's log; a SIGINT/SIGTERM stops it at
    the next batch (where this is the main thread: a process-pool worker, a flow run)."""
    progress = EpochProgress(params.run_id, get_run_logger().info)
    with stop_on_signals(chain=False):
        return train_one_run(params, on_epoch=progress)


def reused(params: RunParams) -> RunRecord | None:
    return cached_record(params, cache_key(params))


# Every training task: transient errors retried, never a deterministic one; no Prefect
# result persisted (the run record is the cache, see the module docstring).
TRAINING_TASK: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": get_settings().retry_delay_s,
    "retry_condition_fn": retry_transient,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}


@task(
    name="train-run",
    task_run_name="train-{params.architecture}-r{params.repeat:02d}",
    **TRAINING_TASK,
)
def train_run_task(params: RunParams) -> RunRecord | State:
    """One run, or its record when :func:`har_models.run.cached_record` accepts it."""
    record = reused(params)
    if record is not None:
        return Completed(name="Cached", data=record, message=f"reused {params.run_id}")
    record = train_logged(params)
    if 0 < len(record.validation_subjects) < MIN_VALIDATION_SUBJECTS:
        get_run_logger().warning(
            "%s chose its epoch on %d held-out training subject(s) (%s): fewer than %d, so "
            "the choice is noisy; use data with more training subjects",
            params.run_id,
            len(record.validation_subjects),
            ", ".join(map(str, record.validation_subjects)),
            MIN_VALIDATION_SUBJECTS,
        )
    return record


class RepeatsProgress:
    """``fit_repeats``' ``on_epoch``: one log line per epoch of the group (every repeat's
    training loss and accuracy), as :class:`EpochProgress` does for one run."""

    def __init__(self, name: str) -> None:
        self.name, self.logger = name, get_run_logger()

    def __call__(self, epoch: int, epochs: int, rows: list[dict[str, float]]) -> None:
        losses = ", ".join(f"{row['train_loss']:.3f}" for row in rows)
        accuracy = 100 * sum(row["train_accuracy"] for row in rows) / len(rows)
        seconds = sum(row["seconds"] for row in rows)
        self.logger.info(
            "%s epoch %d/%d: losses %s, mean accuracy %.1f %%, %.1f s",
            self.name, epoch, epochs, losses, accuracy, seconds,
        )  # fmt: skip


def group_name(group: list[RunParams]) -> str:
    """``lstm-r00-r04`` for a group of repeats, the run id for one run."""
    first, last = group[0], group[-1]
    return first.run_id if len(group) == 1 else f"{first.run_id}-r{last.repeat:02d}"


@task(name="train-repeats", task_run_name="train-{group_label}", **TRAINING_TASK)
def train_repeats_task(group: list[RunParams], group_label: str) -> list[RunRecord] | State:
    """Several repeats of one architecture as one batched computation
    (:func:`har_models.run.train_repeats`); their records, or reused ones."""
    records = [reused(params) for params in group]
    if all(record is not None for record in records):
        return Completed(name="Cached", data=records, message=f"reused {group_label}")
    with stop_on_signals(chain=False):
        return train_repeats(group, on_epoch=RepeatsProgress(group_label))
