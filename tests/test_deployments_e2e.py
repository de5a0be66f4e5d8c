"""End to end as a service: a real Prefect server and process worker, the deployments of
``deployments/prefect.yaml`` registered with the real CLI, runs started with
``prefect deployment run`` and checked through the Prefect client. No mocks.

The server and worker run in their own process groups and are killed by id at the end,
also when a test fails.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from cronsim import CronSim
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterId,
    FlowRunFilterParentFlowRunId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType, TaskRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.settings import PREFECT_API_URL, temporary_settings

from har_data.synthetic import make_synthetic_archive
from har_models.results import read_metrics

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
ARCHITECTURES = ["lstm", "cnn_lstm"]
DISPATCHED = ["lstm"]  # each run costs a flow-run process: keep the fan-out test small
REPEATS = 2
RUN_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def start(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """A long-running process in its own process group (its children die with it)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL what is left after a grace period."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            os.killpg(proc.pid, signal.SIGKILL)  # children the leader left behind
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


@dataclass
class Service:
    api_url: str
    env: dict[str, str]
    data_home: Path
    archive: Path
    logs: Path
    port: int

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """The Prefect CLI against this server, from the repository root."""
        return subprocess.run(
            [PREFECT, "--no-prompt", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    @contextmanager
    def client(self) -> Iterator[SyncPrefectClient]:
        with (
            temporary_settings(updates={PREFECT_API_URL: self.api_url}),
            get_client(sync_client=True) as client,
        ):
            yield client

    def run_deployment(self, name: str, parameters: dict[str, object]) -> UUID:
        """``prefect deployment run NAME --params JSON``; the id of the flow run it created."""
        done = self.cli("deployment", "run", name, "--params", json.dumps(parameters))
        assert done.returncode == 0, done.stdout + done.stderr
        match = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout)
        assert match, done.stdout
        return UUID(match.group(1))

    def wait(self, flow_run_id: UUID, timeout: float = RUN_TIMEOUT_S) -> FlowRun:
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                run = client.read_flow_run(flow_run_id)
                if run.state is not None and run.state.is_final():
                    return run
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"flow run {flow_run_id} still {run.state_name} after {timeout:.0f} s;"
                        f" worker log:\n{log_tail(self.logs / 'worker.log')}"
                    )
                time.sleep(2)

    def flow_run_tree(self, root: UUID) -> list[FlowRun]:
        """The flow run and all its descendants (subflows and deployment runs it started)."""
        found: list[FlowRun] = []
        with self.client() as client:
            frontier = [root]
            found.extend(
                client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[root]))
                )
            )
            while frontier:
                children = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier)
                    ),
                    limit=200,
                )
                found.extend(children)
                frontier = [c.id for c in children]
        return found

    def flow_names(self, flow_runs: list[FlowRun]) -> list[str]:
        with self.client() as client:
            return [client.read_flow(r.flow_id).name for r in flow_runs]

    def task_runs(self, flow_runs: list[FlowRun]) -> list[TaskRun]:
        with self.client() as client:
            return client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[r.id for r in flow_runs])),
                limit=200,
            )


def make(target: str, port: int, *args: str) -> list[str]:
    """``make TARGET`` with this interpreter's virtualenv, never reinstalling it."""
    venv = Path(sys.prefix)
    return [
        "make", "--no-print-directory", f"VENV={venv}", "-o", str(venv / ".installed"),
        target, f"SERVER_PORT={port}", *args,
    ]  # fmt: skip


def wait_healthy(
    api_url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"server did not come up:\n{log_tail(log)}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``make server``, ``make deploy`` and ``make worker`` as an operator runs them on a fresh
    clone: a data home that does not exist yet, a port other than 4200."""
    root = tmp_path_factory.mktemp("service")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home = root / "har-home"  # made by `make server`
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "prefect-home"),  # the CLI's; the server's is under HAR_HOME
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "HAR_HOME": str(home),
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # pick up runs quickly (default 10 s)
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PREFECT_API_KEY", None)
    env.pop("PREFECT_UI_API_URL", None)
    env.pop("MAKEFLAGS", None)
    svc = Service(
        api_url=api_url,
        env=env,
        data_home=home,
        archive=make_synthetic_archive(root / "synthetic.zip"),
        logs=root,
        port=port,
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start(make("server", port), env, root / "server.log", cwd=REPO))
        wait_healthy(api_url, procs[0], root / "server.log")

        deploy = subprocess.run(
            make("deploy", port), cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr

        # Limit 3: a pipeline run and two har-train-one runs it dispatches run side by side.
        worker = make("worker", port, "WORKER_LIMIT=3", "WORKER_NAME=e2e")
        procs.append(start(worker, env, root / "worker.log", cwd=REPO))
        yield svc
    finally:
        for proc in reversed(procs):
            stop(proc)


def test_deployments_and_work_pools_are_registered(service: Service) -> None:
    with service.client() as client:
        pools = {name: client.read_work_pool(name) for name in ("har-gpu", "har-cpu")}
        deployments = {
            name: client.read_deployment_by_name(name)
            for name in (
                "har-pipeline/scheduled-retrain",
                "har-pipeline/on-demand",
                "har-train-one/gpu",
            )
        }
    assert {p.type for p in pools.values()} == {"process"}

    scheduled = deployments["har-pipeline/scheduled-retrain"]
    assert len(scheduled.schedules) == 1
    schedule = scheduled.schedules[0]
    assert schedule.active
    assert schedule.schedule.cron == "0 3 * * 1"
    assert schedule.schedule.timezone == "UTC"
    assert deployments["har-pipeline/on-demand"].schedules == []
    assert deployments["har-train-one/gpu"].schedules == []
    for name, deployment in deployments.items():
        assert deployment.work_pool_name == "har-gpu", name
        assert deployment.enforce_parameter_schema, name
        steps = deployment.pull_steps or []
        assert steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
        ], name


# What the server logged every minute while SQLAlchemy 2.1 broke its scheduler (issue 15).
SCHEDULER_ERRORS = ("schedule_deployments", "InvalidRequestError", "bulk_dml", "Traceback")


def scheduled_runs(client: SyncPrefectClient, deployment_id: UUID) -> list[FlowRun]:
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        ),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        limit=200,
    )


def test_the_server_schedules_the_retrain_at_the_cron_times(service: Service) -> None:
    """Not the cron string: the runs the server's scheduler creates from it."""
    started = datetime.now(UTC)
    deadline = time.monotonic() + 120
    with service.client() as client:
        deployment = client.read_deployment_by_name("har-pipeline/scheduled-retrain")
        schedule = deployment.schedules[0].schedule
        while len(runs := scheduled_runs(client, deployment.id)) < 3:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{len(runs)} scheduled runs after 120 s; server log:\n"
                    f"{log_tail(service.logs / 'server.log')}"
                )
            time.sleep(2)
        # Nothing of this test may start on the worker: take the runs off the schedule.
        client.pause_deployment(deployment.id)

    expected = list(islice(CronSim(schedule.cron, started.replace(tzinfo=None)), len(runs)))
    assert [r.expected_start_time.astimezone(UTC).replace(tzinfo=None) for r in runs] == expected
    assert all(r.parameters == deployment.parameters for r in runs)
    log = (service.logs / "server.log").read_text(errors="replace")
    assert [e for e in SCHEDULER_ERRORS if e in log] == [], log_tail(service.logs / "server.log")


def test_the_ui_talks_to_this_server(service: Service) -> None:
    """`make server SERVER_PORT=...` tells the browser UI its own API, not port 4200's."""
    settings = httpx.get(f"http://127.0.0.1:{service.port}/ui-settings", timeout=10)
    assert settings.status_code == 200, settings.text
    assert settings.json()["api_url"] == service.api_url
    assert (service.data_home / "prefect").is_dir()  # the server's home, made by `make server`


BAD_PARAMETERS = [
    pytest.param({"repeats": 0}, "repeats", "less than the minimum of 1", id="repeats=0"),
    pytest.param({"architectures": ["gru"]}, "architectures[0]", "'gru' is not one of", id="gru"),
    pytest.param({"architectures": []}, "architectures", "should be non-empty", id="empty"),
    pytest.param(
        {"architectures": ["lstm", "lstm"]}, "architectures", "non-unique elements", id="twice"
    ),
    pytest.param({"device": "gpu"}, "device", "does not match", id="device=gpu"),
    pytest.param({"study_id": "bad id/.."}, "study_id", "does not match", id="study-id"),
    pytest.param({"study_prefix": "../x"}, "study_prefix", "does not match", id="prefix"),
]


@pytest.mark.parametrize(("parameters", "field", "message"), BAD_PARAMETERS)
def test_bad_parameters_are_refused_at_run_time(
    service: Service, parameters: dict[str, object], field: str, message: str
) -> None:
    """The server validates parameters against the flow's schema before any run exists."""
    done = service.cli(
        "deployment", "run", "har-pipeline/on-demand", "--params", json.dumps(parameters)
    )
    out = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0, out
    assert f"Validation failed for field '{field}'" in out or f"{field}" in out, out
    assert message in out, out

    with service.client() as client:
        deployment = client.read_deployment_by_name("har-pipeline/on-demand")
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])
            )
        )
    key, value = next(iter(parameters.items()))
    assert [r for r in runs if r.parameters.get(key) == value] == []


def recipe(
    service: Service, study_id: str, dispatch: str, architectures: list[str] = ARCHITECTURES
) -> dict[str, object]:
    return {
        "source": str(service.archive),
        "profile": "custom",
        "data_home": str(service.data_home),
        "architectures": architectures,
        "repeats": REPEATS,
        "epochs": 1,
        "study_id": study_id,
        "dispatch": dispatch,
    }


def assert_report_artifacts(service: Service, tree: list[FlowRun]) -> None:
    with service.client() as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[r.id for r in tree])
            )
        )
    by_key = {a.key: a for a in artifacts if a.key}
    assert by_key["har-report-summary"].type == "markdown", by_key
    assert "report.html" in str(by_key["har-report-html"].data)  # the link artifact
    tables = [k for k, a in by_key.items() if k.startswith("har-report-") and a.type == "table"]
    assert tables, by_key


def test_on_demand_pipeline_runs_on_the_worker(service: Service) -> None:
    flow_run_id = service.run_deployment(
        "har-pipeline/on-demand", recipe(service, "e2e-local", "local")
    )
    run = service.wait(flow_run_id)
    assert run.state is not None and run.state.is_completed(), (
        f"{run.state}\n{log_tail(service.logs / 'worker.log')}"
    )

    tree = service.flow_run_tree(flow_run_id)
    assert sorted(service.flow_names(tree)) == [
        "har-ingest",
        "har-pipeline",
        "har-report",
        "har-train",
    ]
    assert all(r.state and r.state.is_completed() for r in tree)
    training = [t for t in service.task_runs(tree) if t.name.startswith("train-")]
    assert sorted(t.name for t in training) == sorted(
        f"train-{a}-r{r:02d}" for a in ARCHITECTURES for r in range(REPEATS)
    )
    assert all(t.state and t.state.is_completed() for t in training)
    assert_report_artifacts(service, tree)

    metrics = read_metrics(service.data_home / "runs" / "e2e-local")
    assert len(metrics) == len(ARCHITECTURES) * REPEATS
    assert set(metrics["status"]) == {"completed"}


def test_deployment_dispatch_runs_each_training_run_as_its_own_flow_run(
    service: Service,
) -> None:
    flow_run_id = service.run_deployment(
        "har-pipeline/on-demand", recipe(service, "e2e-deployment", "deployment", DISPATCHED)
    )
    run = service.wait(flow_run_id, timeout=RUN_TIMEOUT_S + 60)
    assert run.state is not None and run.state.is_completed(), (
        f"{run.state}\n{log_tail(service.logs / 'worker.log')}"
    )

    tree = service.flow_run_tree(flow_run_id)
    with service.client() as client:
        train_one = client.read_deployment_by_name("har-train-one/gpu")
    children = [r for r in tree if r.deployment_id == train_one.id]
    assert sorted(
        (r.parameters["architecture"], r.parameters["repeat"]) for r in children
    ) == sorted((a, r) for a in DISPATCHED for r in range(REPEATS))
    assert all(r.state and r.state.is_completed() for r in children)
    assert {r.work_pool_name for r in children} == {"har-gpu"}
    assert_report_artifacts(service, tree)

    metrics = read_metrics(service.data_home / "runs" / "e2e-deployment")
    assert len(metrics) == len(DISPATCHED) * REPEATS
    assert set(metrics["status"]) == {"completed"}


def test_cancelling_a_dispatching_parent_cancels_its_children_within_seconds(
    service: Service,
) -> None:
    parameters = {**recipe(service, "e2e-cancel", "deployment", DISPATCHED), "epochs": 1_000_000}
    parent = service.run_deployment("har-pipeline/on-demand", parameters)
    with service.client() as client:
        train_one = client.read_deployment_by_name("har-train-one/gpu")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:  # until a child trains
        children = [r for r in service.flow_run_tree(parent) if r.deployment_id == train_one.id]
        if any(r.state and r.state.is_running() for r in children):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no child started training:\n{log_tail(service.logs / 'worker.log')}")
        time.sleep(1)
    assert {r.name for r in children} <= {f"e2e-cancel-lstm-r{r:02d}" for r in range(REPEATS)}

    cancelled = service.cli("flow-run", "cancel", str(parent))
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    start = time.monotonic()
    while True:
        children = [r for r in service.flow_run_tree(parent) if r.deployment_id == train_one.id]
        if all(r.state and r.state.is_final() for r in children):
            break
        if time.monotonic() - start > 60:
            pytest.fail(f"children still {[r.state_name for r in children]} 60 s after cancel")
        time.sleep(1)
    elapsed = time.monotonic() - start
    assert elapsed < 30, f"children took {elapsed:.0f} s to stop"
    # Prefect 3.8.8's engine ends a SIGTERM'd child "Crashed" unless the worker's control
    # channel announced the cancel first; either way it stopped and never completed.
    assert {r.state_name for r in children} <= {"Cancelled", "Crashed"}, [
        r.state_name for r in children
    ]

    # Whatever the study folder holds says what happened; it is never an empty folder.
    study = service.data_home / "runs" / "e2e-cancel"
    if study.exists():
        records = sorted((study / "records").glob("*.json"))
        assert records, sorted(p.name for p in study.rglob("*"))
        statuses = {json.loads(p.read_text())["status"] for p in records}
        assert statuses <= {"interrupted"}
