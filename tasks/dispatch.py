"""Where training runs execute: local threads/processes, a Dask cluster, or deployments.

On a GPU one run at a time per device (runs would only contend for it); on CPU about one
run per two cores, with the cores divided among the runs as torch threads. Several local
runs go to separate processes: the global torch RNG is per process, so runs stay seeded.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from prefect.states import Completed, State
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from har_models.device import resolve_device
from har_models.results import RunRecord, load_record
from har_models.run import RunParams
from tasks.training import reused

TRAIN_ONE_DEPLOYMENT = "har-train-one/gpu"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_plan(device: str, max_workers: int | None) -> tuple[int, int | None]:
    """(concurrent runs, torch threads per run) for this machine."""
    if resolve_device(device).type != "cpu":
        return 1, None
    cores = cpu_count()
    workers = max_workers or max(1, cores // 2)
    return workers, max(1, cores // workers)


def make_task_runner(
    dispatch: str, device: str, max_workers: int | None, dask_address: str | None
) -> tuple[TaskRunner[Any], int | None]:
    """(task runner, torch threads per run; None = leave torch's default)."""
    if dispatch == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address), None
        workers, threads = local_plan(device, max_workers)
        kwargs = {"n_workers": workers, "threads_per_worker": 1, "processes": True}
        return DaskTaskRunner(cluster_kwargs=kwargs), threads
    if dispatch == "deployment":  # each run is a flow run elsewhere: threads only wait
        return ThreadPoolTaskRunner(max_workers=max_workers or 8), None
    workers, threads = local_plan(device, max_workers)
    if workers == 1:
        return ThreadPoolTaskRunner(max_workers=1), threads
    return ProcessPoolTaskRunner(max_workers=workers), threads


def train_one_parameters(params: RunParams) -> dict[str, Any]:
    """The ``har-train-one`` flow's parameters for one run."""
    return params.model_dump(exclude={"threads", "data_sha256"})


@task(
    name="dispatch-run",
    task_run_name="dispatch-{params.architecture}-r{params.repeat:02d}",
    retries=1,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def dispatch_run_task(params: RunParams, timeout_s: float | None = None) -> RunRecord | State:
    """Run one training run as a flow run of the ``har-train-one/gpu`` deployment."""
    record = reused(params)
    if record is not None:
        return Completed(name="Cached", data=record, message=f"reused {params.run_id}")
    flow_run = run_deployment(
        TRAIN_ONE_DEPLOYMENT,
        parameters=train_one_parameters(params),
        timeout=timeout_s,
        flow_run_name=f"{params.study_id}-{params.run_id}",
    )
    state = flow_run.state
    if state is None or not state.is_completed():
        raise RuntimeError(
            f"deployment run {flow_run.name} of {TRAIN_ONE_DEPLOYMENT} ended "
            f"{state.name if state else 'without a state'}"
        )
    # The child wrote its record into the (shared) data home; no result storage is needed.
    return load_record(params.study, params.run_id)
