"""The training cache and the study folder under a hostile or unlucky user, through the flows:
planted pickles run nothing, a deleted study is trained again, concurrent flows and
trainings on one study cooperate and lose no record."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from uuid import UUID

import numpy as np
import pandas as pd
import pytest
from prefect._internal.result_records import ResultRecord, ResultRecordMetadata
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH

from flows.report import report
from flows.train import train
from har_models.checkpoint import load_checkpoint
from har_models.results import load_records, read_metrics
from har_models.run import cache_key
from tests.processes import Child, child_env, run_together
from tests.synthetic_tensors import run_params, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("prefect_harness", "one_torch_thread")


class Payload:
    """Unpickling this runs ``touch marker``: what an attacker would plant."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def prefect_result(marker: Path, key: str) -> bytes:
    """A Prefect result record whose metadata names the pickle serializer."""
    return ResultRecord(
        metadata=ResultRecordMetadata(storage_key=key), result=Payload(marker)
    ).serialize()


def run_flow(home: Path, study_id: str, **options: object) -> tuple[object, dict[str, str]]:
    params = dict(architectures=["lstm"], repeats=2, epochs=1, device="cpu", max_workers=1)
    state = train(data_home=str(home), study_id=study_id, **{**params, **options},
                  return_state=True)  # fmt: skip
    assert state.is_completed(), state.message
    return state, task_states(state.state_details.flow_run_id)


def task_states(flow_run_id: UUID) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {r.name: r.state_name for r in runs if r.name.startswith("train-")}


def test_planted_pickles_run_nothing_and_are_not_trusted(tmp_path: Path) -> None:
    """Every file the pipeline reads back from the study folder, and a Prefect result store
    under the data home and in PREFECT_HOME, gets a payload that runs a command when
    unpickled. Rerunning the study runs nothing, trains the runs again, then reuses them."""
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    run_flow(home.root, "planted")
    study = home.study("planted")
    marker, armed = tmp_path / "pwned", tmp_path / "armed"

    # The payload is live: Prefect's own result reader would run it.
    ResultRecord.deserialize(prefect_result(armed, "x"))
    assert armed.exists()

    payload = prefect_result(marker, "x")
    planted = [*study.records.glob("*.json"), study.metrics]
    planted += [*study.root.glob("history/*.parquet"), *study.root.glob("checkpoints/*.pt")]
    stores = [home.root / "prefect-results", Path(PREFECT_LOCAL_STORAGE_PATH.value())]
    for repeat in (0, 1):
        key = cache_key(run_params(home, study_id="planted", repeat=repeat, seed=repeat))
        planted += [store / key for store in stores]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)

    _, states = run_flow(home.root, "planted")
    assert states == {"train-lstm-r00": "Completed", "train-lstm-r01": "Completed"}
    report_dir = report(study_id="planted", data_home=str(home.root))
    _, again = run_flow(home.root, "planted")
    assert again == {"train-lstm-r00": "Cached", "train-lstm-r01": "Cached"}
    assert not marker.exists()
    metrics = read_metrics(study)
    assert metrics["status"].tolist() == ["completed", "completed"]
    for row in metrics.itertuples():
        assert load_checkpoint(study.root / row.checkpoint_path).architecture == "lstm"
    assert (Path(report_dir) / "report.html").is_file()


def test_a_deleted_study_is_trained_again_and_reported(tmp_path: Path, caplog) -> None:
    """``rm -r runs/<study>`` then the same study id: the runs are trained again (not served
    from a cache that points at files that are gone), and the report is of real checkpoints."""
    subjects = {"train": (1, 3), "test": (2, 4)}
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2, subjects=subjects)
    run_flow(home.root, "deleted", protocol="validated")
    # 2 training subjects: validated's folds hold out 1 each, 2 in all, which the log warns about
    assert "chose its epoch on 2 held-out training subject(s) (1, 3)" in caplog.text
    shutil.rmtree(home.study_dir("deleted"))

    _, states = run_flow(home.root, "deleted", protocol="validated")
    assert states == {"train-lstm-r00": "Completed", "train-lstm-r01": "Completed"}
    report_dir = Path(report(study_id="deleted", data_home=str(home.root)))
    study = home.study("deleted")
    runs = pd.read_csv(report_dir / "runs.csv")
    assert runs["status"].tolist() == ["completed", "completed"]
    x = np.zeros((2, 128, 9), dtype=np.float32)
    for row in read_metrics(study).itertuples():
        model = load_checkpoint(study.root / row.checkpoint_path)
        assert model.predict(x).shape == (2,)
        assert (study.root / row.history_path).is_file()


def test_two_flows_with_different_plans_on_one_study_keep_every_record(tmp_path: Path) -> None:
    """Two processes train one study at once with different plans (they share lstm-r00):
    the table lists every record on disk, and the shared run is trained once."""
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    plans = [{"architectures": ["lstm"], "repeats": 2}, {"architectures": ["lstm", "cnn_lstm"]}]
    children = [
        Child(
            "from flows.train import train",
            f"train(data_home={str(home.root)!r}, study_id='shared', epochs=1, device='cpu', "
            f"max_workers=1, repeats={plan.get('repeats', 1)}, "
            f"architectures={plan['architectures']!r})",
        )
        for plan in plans
    ]
    env = child_env(tmp_path / "prefect-home", PREFECT_API_URL.value())
    for proc in run_together(children, tmp_path, env):
        assert proc.returncode == 0, proc.stderr[-3000:]
    study = home.study("shared")
    on_disk = sorted(r.run_id for r in load_records(study))
    assert on_disk == ["cnn_lstm-r00", "lstm-r00", "lstm-r01"]
    assert sorted(read_metrics(study)["run_id"]) == on_disk


def test_two_trainings_of_one_run_at_once_train_it_once(tmp_path: Path) -> None:
    """Two processes are asked for the same run at the same moment: one trains it, the other
    waits on the run's lock and reuses its record (before, both trained it)."""
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    child = Child(
        "import json, torch\n"
        "from dataclasses import asdict\n"
        "from har_data.layout import DataHome\n"
        "from har_models.run import train_one_run\n"
        "from tests.synthetic_tensors import run_params\n"
        "torch.set_num_threads(1)",
        f"record = train_one_run(run_params(DataHome.resolve({str(home.root)!r}), epochs=2))\n"
        "print('RECORD', json.dumps(asdict(record)))",
    )
    done = run_together([child, child], tmp_path, child_env(tmp_path / "prefect-home"))
    records = []
    for proc in done:
        assert proc.returncode == 0, proc.stderr[-3000:]
        line = next(x for x in proc.stdout.splitlines() if x.startswith("RECORD "))
        records.append(json.loads(line.removeprefix("RECORD ")))
    first, second = records
    # A second training would have its own wall time and (unseeded timing aside) its own
    # checkpoint file; the reused record is the first one's, field for field.
    assert first == second
    assert first["wall_time_s"] > 0 and first["status"] == "completed"
