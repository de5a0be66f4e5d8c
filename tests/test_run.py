"""The run function (``har_models.run``): its cache key, its record-based cache, and that
the refactor into the domain package left the numbers alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from har_models.checkpoint import load_checkpoint
from har_models.results import load_records, read_metrics, rebuild_metrics, save_record
from har_models.run import CODE_PACKAGES, cache_key, code_version, train_one_run
from tests.synthetic_tensors import run_params, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path: Path):
    return write_synthetic_tensors(tmp_path / "home", n_per_class_subject=3)


def test_cache_key_covers_recipe_overrides(home) -> None:
    """A recipe variant must not reuse the default's run."""
    stacked = dict(architecture="stacked_lstm", epochs=None)
    default = cache_key(run_params(home, **stacked), code="c")
    assert cache_key(run_params(home, **stacked, recipe_overrides={}), code="c") == default
    same = run_params(home, **stacked, recipe_overrides={"shuffle": False})  # the default value
    assert cache_key(same, code="c") == default
    changed = run_params(home, **stacked, recipe_overrides={"shuffle": True})
    assert cache_key(changed, code="c") != default
    assert cache_key(run_params(home, **{**stacked, "epochs": 1}), code="c") != default
    assert cache_key(run_params(home, **stacked, threads=1), code="c") == default
    assert cache_key(run_params(home, **stacked), code="other") != default


def test_changing_the_run_function_changes_the_code_version(tmp_path: Path) -> None:
    """The run function itself is hashed (it once lived outside the hashed folder)."""
    for package in CODE_PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package)
    before = code_version(tmp_path)
    assert before == code_version(REPO)
    run_py = tmp_path / "har_models" / "run.py"
    run_py.write_text(run_py.read_text() + "\n# a change to the run function\n")
    assert code_version(tmp_path) != before
    run_py.write_text(run_py.read_text().replace("\n# a change to the run function\n", ""))
    tensors = tmp_path / "har_data" / "tensors.py"  # how the data is read is hashed too
    tensors.write_text(tensors.read_text() + "\n")
    assert code_version(tmp_path) != before


# Recorded with the code before the domain refactor (commit eb5606f, tasks/train_run.py):
# published protocol, 2 epochs, seed 3, synthetic tensors with 3 windows per class and subject.
BEFORE_REFACTOR = {
    "lstm": (0.4166666666666667, [1.7957063648435805, 1.7526551352606878]),
    "cnn_lstm": (0.5, [1.829208877351549, 1.6954742537604437]),
    "convlstm": (0.5, [1.7995943228403728, 1.691052211655511]),
    "stacked_lstm": (0.3333333333333333, [1.7972774505615234, 1.765162467956543]),
}


@pytest.mark.parametrize("architecture", sorted(BEFORE_REFACTOR))
def test_same_seed_same_record_as_before_the_refactor(home, architecture: str) -> None:
    params = run_params(home, architecture=architecture, seed=3, epochs=2)
    record = train_one_run(params)
    history = pd.read_parquet(params.study.root / record.history_path)
    accuracy, losses = BEFORE_REFACTOR[architecture]
    assert record.accuracy == pytest.approx(accuracy, abs=1e-9)
    # Bit-equal on the same CPU model; another model may pick other kernels.
    assert history["train_loss"].tolist() == pytest.approx(losses, rel=1e-4)


def test_a_cached_run_is_reused_only_while_what_it_refers_to_exists(home) -> None:
    params = run_params(home)
    first = train_one_run(params)
    study = params.study
    checkpoint = study.root / first.checkpoint_path
    stamp = checkpoint.stat().st_mtime_ns
    assert train_one_run(params) == first and checkpoint.stat().st_mtime_ns == stamp
    # A deleted study folder is trained again, not served from a cache.
    shutil.rmtree(study.root)
    again = train_one_run(params)
    assert checkpoint.is_file() and (study.root / again.history_path).is_file()
    # A checkpoint replaced behind the record's back is not trusted: the run is trained again.
    checkpoint.write_bytes(b"not the checkpoint the record describes")
    train_one_run(params)
    assert load_checkpoint(checkpoint).architecture == "lstm"
    # So is a run whose history is gone.
    (study.root / again.history_path).unlink()
    train_one_run(params)
    assert (study.root / again.history_path).is_file()


def test_a_planted_record_is_neither_executed_nor_trusted(home, tmp_path: Path) -> None:
    """The cache is plain JSON read field by field: a payload planted in the data home by
    someone else runs nothing, and a run with a foreign record is trained again."""
    params = run_params(home)
    study = params.study
    study.records.mkdir(parents=True)
    marker = tmp_path / "pwned"
    pickle_like = (
        b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94"
        + f"touch {marker}".encode()
    )
    study.record(params.run_id).write_bytes(pickle_like)
    record = train_one_run(params)
    assert record.status == "completed" and not marker.exists()
    # A well-formed record with a forged cache key and no files is not reused either.
    forged = json.loads(study.record(params.run_id).read_text())
    forged["accuracy"] = 1.0
    forged["checkpoint_sha256"] = "0" * 64
    study.record(params.run_id).write_text(json.dumps(forged))
    assert train_one_run(params).accuracy == record.accuracy
    # Unknown fields are refused, not passed on.
    study.record("lstm-r09").write_text(json.dumps({**forged, "__reduce__": "os.system"}))
    with pytest.raises(ValueError, match="unknown record fields"):
        load_records(study)


def test_metrics_table_lists_every_record_on_disk(home) -> None:
    """A smaller rerun of a study does not shrink its table (last writer no longer wins)."""
    for repeat in (0, 1):
        train_one_run(run_params(home, repeat=repeat, seed=repeat))
    study = run_params(home).study
    rebuild_metrics(study)
    assert read_metrics(study)["run_id"].tolist() == ["lstm-r00", "lstm-r01"]
    save_record(train_one_run(run_params(home)), study)  # a --repeats 1 rerun
    rebuild_metrics(study)
    assert read_metrics(study)["run_id"].tolist() == ["lstm-r00", "lstm-r01"]


def test_a_study_refuses_runs_of_another_protocol(home) -> None:
    from har_models.run import check_study_protocol

    params = run_params(home)
    record = train_one_run(params)
    before = {p: p.read_bytes() for p in params.study.root.rglob("*") if p.is_file()}
    check_study_protocol(params.study, "published")  # same protocol: fine
    with pytest.raises(ValueError, match="already holds lstm-r00 trained with the published"):
        check_study_protocol(params.study, "validated")
    after = {p: p.read_bytes() for p in params.study.root.rglob("*") if p.is_file()}
    assert after == before and record.protocol == "published"


def test_a_stop_is_recorded_as_interrupted_wherever_it_is_recorded(tmp_path: Path) -> None:
    """The flow records a run whose task ended in a stop (SIGINT/SIGTERM reached the workers
    but not its own wait, e.g. SIGINT ignored in a background job): interrupted, not failed."""
    from har_models.run import failed_record
    from har_models.stop import Interrupted

    params = run_params(write_synthetic_tensors(tmp_path / "home"))
    assert failed_record(params, Interrupted("stopped on request")).status == "interrupted"
    assert failed_record(params, KeyboardInterrupt()).status == "interrupted"
    assert failed_record(params, ValueError("bad")).status == "failed"
