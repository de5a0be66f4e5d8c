"""Failure handling of the training flow: a crashing run is retried; an interrupted study
keeps its finished runs cached, and running it again trains only the missing ones.

Faults are injected through the architecture registry (the extension point for models):
the ``lstm`` entry is swapped, for one test, for a spec whose builder crashes on chosen
calls and otherwise builds the real LSTM. Everything else is real: the ``har-train`` flow,
its tasks, retries and cache under the Prefect test harness, Parquet tensors on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from uuid import UUID

import pytest
import torch
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import TaskRun
from synthetic_tensors import write_synthetic_tensors

from flows.train import train
from har_models import registry
from har_models.results import read_metrics

pytestmark = pytest.mark.usefixtures("prefect_harness")


class InjectedCrash(RuntimeError):
    """The fault these tests inject; nothing else raises it."""


@dataclass
class FaultyBuilder:
    """Builds the real model, except on the calls ``crash_when`` picks.

    ``fit`` seeds torch with the run's seed right before building, so ``torch.initial_seed()``
    names the run being built.
    """

    builder: Callable[..., torch.nn.Module]
    crash_when: Callable[[int, int], bool]  # (call number from 1, seed) -> crash?
    built_seeds: list[int] = field(default_factory=list)
    calls: int = 0

    def __call__(self, **hparams: object) -> torch.nn.Module:
        self.calls += 1
        seed = torch.initial_seed()
        if self.crash_when(self.calls, seed):
            raise InjectedCrash(f"injected crash in build #{self.calls} (seed {seed})")
        self.built_seeds.append(seed)
        return self.builder(**hparams)


@pytest.fixture
def faulty_lstm(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Callable[[int, int], bool]], FaultyBuilder]:
    """Swap the registry's ``lstm`` spec for a faulty one (restored after the test)."""

    spec = registry.get_spec("lstm")

    def install(crash_when: Callable[[int, int], bool]) -> FaultyBuilder:
        faulty = FaultyBuilder(spec.builder, crash_when)
        monkeypatch.setitem(registry.REGISTRY, "lstm", replace(spec, builder=faulty))
        return faulty

    return install


def run_study(data_home: Path, study_id: str, repeats: int) -> UUID:
    """One ``har-train`` flow run, in-process, one training run at a time; its flow run id."""
    state = train(
        architectures=["lstm"],
        repeats=repeats,
        epochs=1,
        device="cpu",
        data_home=str(data_home),
        study_id=study_id,
        dispatch="local",
        max_workers=1,  # one thread in this process, so the swapped registry entry is used
        return_state=True,
    )
    assert state.is_completed(), state
    return state.state_details.flow_run_id


def training_task_runs(flow_run_id: UUID) -> dict[str, TaskRun]:
    """The flow run's ``train-*`` task runs by name."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {r.name: r for r in runs if r.name.startswith("train-")}


def test_crashing_run_is_retried(tmp_path: Path, faulty_lstm) -> None:
    home = write_synthetic_tensors(tmp_path / "home")
    faulty = faulty_lstm(lambda call, seed: call == 1)  # the first attempt crashes

    flow_run_id = run_study(home.root, "retry", repeats=1)

    runs = training_task_runs(flow_run_id)
    assert set(runs) == {"train-lstm-r00"}
    run = runs["train-lstm-r00"]
    assert run.state is not None and run.state.is_completed()
    assert run.run_count == 2, "one crash, then one successful retry"
    assert faulty.calls == 2
    metrics = read_metrics(home.study_dir("retry"))
    assert metrics["status"].tolist() == ["completed"]
    assert metrics["error"].tolist() == [""]


def test_rerun_of_interrupted_study_trains_only_missing_runs(tmp_path: Path, faulty_lstm) -> None:
    home = write_synthetic_tensors(tmp_path / "home")
    study = home.study_dir("resume")
    # First pass: repeat 1 (seed 1) dies on every attempt, as if its worker were killed.
    faulty = faulty_lstm(lambda call, seed: seed == 1)
    first = run_study(home.root, "resume", repeats=2)

    first_runs = training_task_runs(first)
    assert {n: r.state.type.value for n, r in first_runs.items()} == {
        "train-lstm-r00": "COMPLETED",
        "train-lstm-r01": "FAILED",
    }
    partial = read_metrics(study).set_index("run_id")
    assert partial["status"].to_dict() == {
        "lstm-r00": "completed",
        "lstm-r01": "failed",
    }
    assert "InjectedCrash" in partial.loc["lstm-r01", "error"]
    finished_at = (study / "checkpoints" / "lstm-r00.pt").stat().st_mtime_ns
    assert not (study / "checkpoints" / "lstm-r01.pt").exists()

    # Second pass, the fault gone: only the missing run is trained.
    faulty = faulty_lstm(lambda call, seed: False)
    second = run_study(home.root, "resume", repeats=2)

    second_runs = training_task_runs(second)
    states = {n: r.state.name for n, r in second_runs.items()}
    assert states == {
        "train-lstm-r00": "Cached",
        "train-lstm-r01": "Completed",
    }
    assert faulty.built_seeds == [1], "only the missing run builds a model"
    assert (study / "checkpoints" / "lstm-r00.pt").stat().st_mtime_ns == finished_at
    assert (study / "checkpoints" / "lstm-r01.pt").is_file()
    done = read_metrics(study)
    assert done["run_id"].tolist() == ["lstm-r00", "lstm-r01"]
    assert done["status"].tolist() == ["completed", "completed"]


def test_a_study_in_which_every_run_failed_fails_and_says_so(tmp_path: Path) -> None:
    """One training subject: ``validated`` cannot hold one out. That error is deterministic,
    so it is not retried, and a study with no completed run is a failed flow, not
    "Completed"."""
    home = write_synthetic_tensors(
        tmp_path / "home", n_per_class_subject=1, subjects={"train": (1,), "test": (2,)}
    )
    state = train(
        architectures=["lstm"], repeats=2, protocol="validated", epochs=1, device="cpu",
        data_home=str(home.root), study_id="one-subject", max_workers=1, return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    assert "study one-subject: all 2 runs failed, none completed" in state.message
    assert "need at least 2 training subjects to hold some out, got 1" in state.message
    runs = training_task_runs(state.state_details.flow_run_id)
    assert {name: run.run_count for name, run in runs.items()} == {
        "train-lstm-r00": 1,
        "train-lstm-r01": 1,
    }, "a deterministic error is not retried"
    metrics = read_metrics(home.study_dir("one-subject"))
    assert metrics["status"].tolist() == ["failed", "failed"]
    assert metrics["error"].str.contains("need at least 2 training subjects").all()
