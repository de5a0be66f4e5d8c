"""Where training runs execute: local threads/processes, a Dask cluster, or deployments.

On a GPU one run at a time per device (runs would only contend for it); on CPU about one
run per two cores, with the cores divided among the runs as torch threads. Several local
runs go to separate processes: the global torch RNG is per process, so runs stay seeded.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import task
from prefect.deployments import run_deployment
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from har_models.device import resolve_device
from har_models.results import RunRecord, load_record, run_id
from tasks.training import run_cache_key

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


@task(
    name="dispatch-run",
    task_run_name="dispatch-{architecture}-r{repeat:02d}",
    retries=1,
    cache_key_fn=run_cache_key,
    persist_result=True,
)
def dispatch_run_task(
    study_dir: str,
    study_id: str,
    architecture: str,
    repeat: int,
    seed: int,
    protocol: str,
    train_path: str,
    test_path: str,
    data_sha256: str,
    epochs: int | None = None,
    device: str = "auto",
    threads: int | None = None,
    timeout_s: float | None = None,
) -> RunRecord:
    """Run one training run as a flow run of the ``har-train-one/gpu`` deployment."""
    parameters = {
        "study_id": study_id,
        "architecture": architecture,
        "repeat": repeat,
        "seed": seed,
        "protocol": protocol,
        "epochs": epochs,
        "device": device,
        "data_home": str(os.path.dirname(os.path.dirname(train_path))),
    }
    flow_run = run_deployment(TRAIN_ONE_DEPLOYMENT, parameters=parameters, timeout=timeout_s)
    state = flow_run.state
    if state is None or not state.is_completed():
        raise RuntimeError(
            f"deployment run {flow_run.name} of {TRAIN_ONE_DEPLOYMENT} ended "
            f"{state.name if state else 'without a state'}"
        )
    # The child wrote its record into the (shared) data home; no result storage is needed.
    return load_record(study_dir, run_id(architecture, repeat))
