"""Where training runs execute: local threads/processes, a Dask cluster, or deployments.

On a GPU one run at a time per device (runs would only contend for it); on CPU about one
run per two cores, with the cores divided among the runs as torch threads. Several local
runs go to separate processes: the global torch RNG is per process, so runs stay seeded.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from prefect import get_client, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkerFilter,
    WorkerFilterStatus,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import FlowRun, StateType, WorkerStatus
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Cancelled, Cancelling, Completed, State
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from flows.params import TrainSettings
from har_data.layout import DataHome
from har_data.tensors import load_split
from har_models.device import resolve_device
from har_models.plan import Candidate, Plan, measured_plan
from har_models.results import RunRecord, load_record
from har_models.run import RunParams
from har_models.stop import Interrupted, stop_requested
from tasks.training import retry_transient, reused

TRAIN_ONE_DEPLOYMENT = "har-train-one/gpu"
POLL_S = 2.0  # how often a dispatching task looks at its child (and at a stop request)
WAIT_WARNING_S = 60.0  # a child still waiting for a worker after this gets a warning
WAIT_WARNING_EVERY_S = 300.0
BUSY = [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING]


class DispatchError(RuntimeError):
    """The children of a deployment dispatch could never run."""


def waiting_warning(name: str, pool: str, waited_s: float) -> str:
    return (
        f"NO FREE WORKER SLOT: {TRAIN_ONE_DEPLOYMENT} run {name} has waited {waited_s:.0f} s "
        f"on work pool {pool!r}. This pipeline run holds a slot itself: a worker started with "
        f"--limit 1 (make worker's default) can never start it. Start another worker on "
        f"{pool!r} or restart the worker with WORKER_LIMIT=2 or more."
    )


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_plan(device: str, max_workers: int | None) -> tuple[int, int | None]:
    """(concurrent runs, torch threads per run) without measuring: a study too small to be
    worth measuring (:data:`MEASURE_FROM_RUNS`), or no local cores to plan (dask, deployment)."""
    if resolve_device(device).type != "cpu":
        return 1, None
    cores = cpu_count()
    workers = max_workers or max(1, cores // 2)
    return workers, max(1, cores // workers)


# A study with fewer runs to train than this keeps the unmeasured plan: measuring costs
# seconds, which such a study would not win back.
MEASURE_FROM_RUNS = 4


@task(name="plan-study", cache_policy=NO_CACHE, persist_result=False)
def plan_study(settings: TrainSettings, home: DataHome, to_train: list[RunParams]) -> Plan:
    """How this study uses the machine (:mod:`har_models.plan`): measured on the study's
    training windows where the runs still to train (``to_train``; reused runs cost nothing)
    are enough to be worth it."""
    logger = get_run_logger()
    if settings.dispatch == "deployment" or settings.dask_address:
        # the runs execute elsewhere, one by one, with that machine's own torch threads
        if settings.batching == "batched":
            logger.warning("--batching batched needs local or local-dask dispatch: runs go solo")
        return Plan(Candidate(1, None, False))
    fixed = settings.batching != "auto" and settings.max_workers is not None
    if len(to_train) < MEASURE_FROM_RUNS or fixed:
        workers, threads = local_plan(settings.device, settings.max_workers)
        batched = settings.batching == "batched" and settings.protocol == "published"
        return Plan(Candidate(workers, threads, batched))
    x, y, _ = load_split(home.split_path("train"))
    runs = Counter(params.architecture for params in to_train)
    plan = measured_plan(
        runs, settings.epochs, x, y,
        device=settings.device, cores=cpu_count(), workers=settings.max_workers,
        batching=settings.batching, batchable=settings.protocol == "published",
        protocol=settings.protocol,
    )  # fmt: skip
    logger.info("plan, measured on %d-window steps: %s", len(x), plan.describe())
    return plan


@contextmanager
def one_server_for_workers() -> Iterator[None]:
    """Point process-pool workers at this flow's Prefect server. Under the embedded server
    (no ``PREFECT_API_URL``) each worker process would otherwise start a temporary server of
    its own: seconds of start-up each, and their task runs and logs would land there, out of
    the operator's sight."""
    if PREFECT_API_URL.value():
        yield
        return
    with get_client(sync_client=True) as client:
        url = str(client.api_url).rstrip("/")
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


def make_task_runner(
    dispatch: str, plan: Plan, max_workers: int | None, dask_address: str | None
) -> TaskRunner[Any]:
    """The task runner that carries out ``plan`` (each run sets its own torch threads)."""
    if dispatch == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        kwargs = {"n_workers": plan.workers, "threads_per_worker": 1, "processes": True}
        return DaskTaskRunner(cluster_kwargs=kwargs)
    if dispatch == "deployment":  # each run is a flow run elsewhere: threads only wait
        return ThreadPoolTaskRunner(max_workers=max_workers or 8)
    if plan.workers == 1:
        return ThreadPoolTaskRunner(max_workers=1)
    return ProcessPoolTaskRunner(max_workers=plan.workers)


def train_one_parameters(params: RunParams) -> dict[str, Any]:
    """The ``har-train-one`` flow's parameters for one run."""
    return params.model_dump(exclude={"threads", "data_sha256"})


@task(name="check-dispatch-capacity", cache_policy=NO_CACHE, persist_result=False)
def check_dispatch_capacity() -> str:
    """Refuse a deployment dispatch whose children could never start: no online worker on
    the pool of ``har-train-one/gpu``, a paused pool, or a pool concurrency limit that the
    runs in flight (this one included) already fill. Returns the pool's name."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(TRAIN_ONE_DEPLOYMENT)
        pool_name = deployment.work_pool_name or ""
        pool = client.read_work_pool(pool_name)
        if pool.is_paused:
            raise DispatchError(f"work pool {pool_name!r} is paused: resume it to dispatch")
        online = client.read_workers_for_work_pool(
            pool_name,
            worker_filter=WorkerFilter(status=WorkerFilterStatus(any_=[WorkerStatus.ONLINE])),
        )
        if not online:
            raise DispatchError(
                f"no worker is online on work pool {pool_name!r}, which runs "
                f"{TRAIN_ONE_DEPLOYMENT}: start one (make worker) before dispatching"
            )
        if pool.concurrency_limit is not None:
            busy = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=BUSY))
                ),
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool_name])),
                limit=200,
            )
            in_pool = list(busy)
            if len(in_pool) >= pool.concurrency_limit:
                raise DispatchError(
                    f"work pool {pool_name!r} allows {pool.concurrency_limit} concurrent runs"
                    f" and {len(in_pool)} are in flight (this pipeline run included): its "
                    "children could never start; raise the pool's limit"
                )
    get_run_logger().info(
        "dispatching to work pool %r: %d worker(s) online (%s)",
        pool_name, len(online), ", ".join(w.name for w in online),
    )  # fmt: skip
    return pool_name


def _cancel(client: Any, flow_run: FlowRun) -> None:
    """Cancel a child: one no worker has claimed yet at once; one a worker has claimed
    (pending: its process may be starting) or runs, through that worker, which stops the
    process. Marking a pending run cancelled directly let its starting process set it
    running again afterwards, training on with its parent gone."""
    state = flow_run.state
    if state is not None and state.is_final():
        return
    claimed = (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)
    started = state is not None and state.type in claimed
    new: State = Cancelling() if started else Cancelled(message="its parent was stopped")
    client.set_flow_run_state(flow_run.id, new, force=True)


def wait_for_child(flow_run_id: UUID, name: str) -> FlowRun:
    """Poll the child until it ends; cancel it when this process is asked to stop; warn
    loudly while it waits for a worker slot that may never come."""
    logger = get_run_logger()
    since = time.monotonic()
    next_warning = WAIT_WARNING_S
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(flow_run_id)
            if run.state is not None and run.state.is_final():
                return run
            if stop_requested():
                _cancel(client, run)
                raise Interrupted(f"stopped on request; child run {name} cancelled")
            waited = time.monotonic() - since
            waiting = run.state is None or run.state.type in (StateType.SCHEDULED,)
            if waiting and waited >= next_warning:
                logger.warning(waiting_warning(name, run.work_pool_name or "?", waited))
                next_warning += WAIT_WARNING_EVERY_S
            time.sleep(POLL_S)


@task(
    name="dispatch-run",
    task_run_name="dispatch-{params.architecture}-r{params.repeat:02d}",
    retries=1,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def dispatch_run_task(params: RunParams) -> RunRecord | State:
    """Run one training run as a flow run of the ``har-train-one/gpu`` deployment."""
    record = reused(params)
    if record is not None:
        return Completed(name="Cached", data=record, message=f"reused {params.run_id}")
    name = f"{params.study_id}-{params.run_id}"
    flow_run = run_deployment(
        TRAIN_ONE_DEPLOYMENT,
        parameters=train_one_parameters(params),
        timeout=0,  # created, not awaited: wait_for_child watches it and the stop request
        flow_run_name=name,
    )
    # sync_compatible: called from sync code it returns the FlowRun, never the coroutine
    flow_run = wait_for_child(flow_run.id, name)  # type: ignore[union-attr]
    state = flow_run.state
    if state is None or not state.is_completed():
        raise RuntimeError(
            f"deployment run {flow_run.name} of {TRAIN_ONE_DEPLOYMENT} ended "
            f"{state.name if state else 'without a state'}"
        )
    # The child wrote its record into the (shared) data home; no result storage is needed.
    return load_record(params.study, params.run_id)
