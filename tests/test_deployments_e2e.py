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
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterId,
    FlowRunFilterParentFlowRunId,
)
from prefect.client.schemas.objects import FlowRun, TaskRun
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


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Server on a free loopback port, pools and deployments created, a worker on har-gpu."""
    root = tmp_path_factory.mktemp("service")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "prefect-home"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "HAR_HOME": str(root / "har-home"),
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # pick up runs quickly (default 10 s)
        "PYTHONUNBUFFERED": "1",
        "PREFECT_UI_ENABLED": "false",  # the API is all these tests use
    }
    env.pop("PREFECT_API_KEY", None)
    svc = Service(
        api_url=api_url,
        env=env,
        data_home=root / "data-home",
        archive=make_synthetic_archive(root / "synthetic.zip"),
        logs=root,
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        server_cmd = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        procs.append(start(server_cmd, env, root / "server.log", cwd=root))
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if procs[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not come up:\n{log_tail(root / 'server.log')}")
            time.sleep(0.5)

        pools = subprocess.run(
            [sys.executable, "-m", "deployments.pools"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert pools.returncode == 0, pools.stdout + pools.stderr
        deploy = svc.cli("deploy", "--prefect-file", "deployments/prefect.yaml", "--all")
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr

        # The worker starts elsewhere on purpose: flow runs find the code by the pull step.
        # Limit 3: a pipeline run and two har-train-one runs it dispatches run side by side.
        worker_cmd = [PREFECT, "worker", "start", "--pool", "har-gpu", "--limit", "3"]
        procs.append(start(worker_cmd, env, root / "worker.log", cwd=root))
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


def test_bad_parameters_are_refused_at_run_time(service: Service) -> None:
    """The server validates parameters against the flow's schema before any run exists."""
    zero = service.cli("deployment", "run", "har-pipeline/on-demand", "--param", "repeats=0")
    assert zero.returncode != 0
    out = " ".join((zero.stdout + zero.stderr).split())
    assert "Validation failed for field 'repeats'" in out
    assert "less than the minimum of 1" in out

    unknown = service.cli(
        "deployment", "run", "har-pipeline/on-demand", "--params", '{"architectures": ["gru"]}'
    )
    assert unknown.returncode != 0
    out = " ".join((unknown.stdout + unknown.stderr).split())
    assert "architectures[0]" in out and "'gru' is not one of" in out

    with service.client() as client:
        deployment = client.read_deployment_by_name("har-pipeline/on-demand")
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])
            )
        )
    assert [r for r in runs if r.parameters.get("architectures") == ["gru"]] == []


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
