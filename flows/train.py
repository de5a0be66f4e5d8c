"""The ``har-train`` flow: every architecture x repeats, cached, retried, results per study.

Orchestration only: parameters are validated (pydantic), runs fan out to the chosen task
runner, each finished run refreshes ``runs/<study-id>/metrics.parquet`` and the artifact.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.futures import as_completed

from flows.help import documented
from flows.params import (
    Architectures,
    BaseSeed,
    Batching,
    Device,
    Dispatch,
    Epochs,
    Protocol,
    Repeats,
    StudyId,
    TrainSettings,
    Workers,
)
from har_data.home_check import check_data_home
from har_models.protocol import DEFAULT_PROTOCOL
from har_models.results import RunRecord
from har_models.run import (
    RunParams,
    check_study_protocol,
    failed_record,
    resolve_training_data,
    work_units,
)
from har_models.stop import stop_on_signals
from har_models.study import DEFAULT_BASE_SEED, DEFAULT_REPEATS
from tasks.dispatch import (
    check_dispatch_capacity,
    dispatch_run_task,
    make_task_runner,
    one_server_for_workers,
    plan_study,
)
from tasks.study import check_outcome, record_failure, record_progress, remove_if_empty
from tasks.training import group_name, reused, train_repeats_task, train_run_task


@flow(name="har-train", log_prints=True)
@documented()
def train(
    architectures: Architectures | None = None,
    repeats: Repeats = DEFAULT_REPEATS,
    protocol: Protocol = DEFAULT_PROTOCOL,
    epochs: Epochs | None = None,
    device: Device = "auto",
    base_seed: BaseSeed = DEFAULT_BASE_SEED,
    data_home: str | None = None,
    study_id: StudyId | None = None,
    dispatch: Dispatch = "local",
    dask_address: str | None = None,
    max_workers: Workers | None = None,
    batching: Batching = "auto",
) -> str:
    """Train every architecture ``repeats`` times and record each run; returns the study folder.

    Each run writes its record, history and checkpoint under ``runs/<study_id>/``; runs
    already finished with the same inputs are reused, failed ones are recorded as failed.
    Fails (non-zero exit) when not one run completed.
    """
    settings = TrainSettings(
        **{k: v for k, v in locals().items() if v is not None or k == "architectures"}
    )
    logger = get_run_logger()
    check_data_home(settings.data_home, ("runs",))
    home, data_sha256 = resolve_training_data(settings.data_home)
    study = home.study(settings.study_id)  # made by the first run that writes into it
    check_study_protocol(study, settings.protocol)
    if settings.dispatch == "deployment":
        check_dispatch_capacity()
    runs = [
        RunParams(
            study_id=settings.study_id,
            architecture=arch,
            repeat=repeat,
            seed=settings.seed(repeat),
            protocol=settings.protocol,
            data_home=str(home.root),
            data_sha256=data_sha256,
            epochs=settings.epochs,
            device=settings.device,
        )
        for arch in settings.architectures
        for repeat in range(settings.repeats)
    ]
    plan = plan_study(settings, home, [params for params in runs if reused(params) is None])
    runner = make_task_runner(settings.dispatch, plan, settings.max_workers, settings.dask_address)
    run_task = dispatch_run_task if settings.dispatch == "deployment" else train_run_task
    runs = [params.model_copy(update={"threads": plan.threads}) for params in runs]
    logger.info("study %s: %d runs -> %s", settings.study_id, len(runs), study.root)
    units = work_units(runs, plan.workers if plan.batched else 0)

    # SIGINT/SIGTERM: every run stops at its next batch and is recorded as interrupted.
    try:
        with stop_on_signals(chain=True), one_server_for_workers(), runner:
            futures = {
                (
                    runner.submit(
                        train_repeats_task, {"group": unit, "group_label": group_name(unit)}
                    )
                    if len(unit) > 1
                    else runner.submit(run_task, {"params": unit[0]})
                ): unit
                for unit in units
            }
            for future in as_completed(list(futures)):
                unit = futures[future]
                result = future.result(raise_on_failure=False)
                results = result if isinstance(result, list) else [result]
                if not all(isinstance(r, RunRecord) for r in results):
                    logger.error("%s failed after retries: %s", group_name(unit), result)
                    error = result if isinstance(result, BaseException) else RuntimeError(result)
                    for params in unit:
                        if not reused(params):  # a group may have finished some runs
                            record_failure(failed_record(params, error), study)
                record_progress(study, len(runs))
    except BaseException:
        remove_if_empty(study)  # stopped before any run wrote anything
        raise
    check_outcome(study, [params.run_id for params in runs])
    return str(study.root)
