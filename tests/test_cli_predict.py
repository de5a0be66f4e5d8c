"""``har predict`` on every kind of input, for every registered family, and every bad input
(wrong channels, too few readings, NaN/inf, another channel order or sampling rate, a
checkpoint that is not one) refused with exit 1 and one line naming the problem."""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from data_contracts.dataset import ACTIVITIES, CHANNELS, N_STEPS
from har_data.layout import DataHome
from har_data.synthetic import make_synthetic_archive
from har_data.tensors import load_split, split_table, write_split
from har_models.checkpoint import load_checkpoint
from har_models.inference import Predictor, probability_column
from har_models.registry import ARCHITECTURES
from har_models.run import train_one_run
from tests.cli_helpers import (
    assert_one_error_line,
    extract_split,
    har,
    readings_csv,
    untrained_checkpoint,
)
from tests.synthetic_tensors import run_params, write_synthetic_tensors

PROBS = [probability_column(a) for a in ACTIVITIES]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, one_torch_thread: None) -> Iterator[DataHome]:
    """Synthetic tensors and one trained lstm run (1 epoch)."""
    home = write_synthetic_tensors(tmp_path_factory.mktemp("home"))
    train_one_run(run_params(home))
    yield home


@pytest.fixture(scope="module")
def checkpoint(home: DataHome) -> Path:
    return home.study("s").checkpoint("lstm-r00")


@pytest.fixture(scope="module")
def test_windows(home: DataHome) -> tuple[np.ndarray, np.ndarray]:
    x, y, _ = load_split(home.split_path("test"))
    return np.array(x), y


def model_probs(checkpoint: Path, x: np.ndarray) -> np.ndarray:
    return Predictor.from_checkpoint(checkpoint).probabilities(x)


def check_frame(df: pd.DataFrame, n: int) -> None:
    assert len(df) == n
    assert list(df.columns[:4]) == ["window", "start", "start_s", "activity"]
    assert list(df.columns[-6:]) == PROBS
    np.testing.assert_allclose(df[PROBS].sum(axis=1), 1.0, atol=1e-5)
    assert (df["activity"] == np.asarray(ACTIVITIES)[df[PROBS].to_numpy().argmax(1)]).all()


# --- happy paths ------------------------------------------------------------------------


def test_parquet_from_ingest(
    capsys: pytest.CaptureFixture[str], home: DataHome, checkpoint: Path, test_windows
) -> None:
    x, y = test_windows
    result = har(capsys, "predict", checkpoint, home.split_path("test"))
    assert result.code == 0, result
    df = pd.read_csv(io.StringIO(result.out))
    check_frame(df, len(x))
    assert (df["true_activity"] == np.asarray(ACTIVITIES)[y]).all()
    np.testing.assert_allclose(df[PROBS], model_probs(checkpoint, x), atol=2e-6)
    assert df["start_s"].isna().all() and (df["start"] == np.arange(len(x))).all()
    assert f"{len(x)} windows" in result.err  # the summary goes to stderr, stdout stays data


def test_npy_windows_to_a_csv_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, checkpoint: Path, test_windows
) -> None:
    x = test_windows[0][:10]
    np.save(tmp_path / "w.npy", x)
    result = har(capsys, "predict", checkpoint, tmp_path / "w.npy", "-o", tmp_path / "out.csv")
    assert result.code == 0 and result.out == "", result
    df = pd.read_csv(tmp_path / "out.csv")
    check_frame(df, 10)
    np.testing.assert_allclose(df[PROBS], model_probs(checkpoint, x), atol=2e-6)


@pytest.mark.parametrize(("overlap", "step"), [(0.5, 64), (0.0, 128), (0.75, 32)])
def test_csv_of_raw_readings_is_windowed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    checkpoint: Path,
    test_windows,
    overlap: float,
    step: int,
) -> None:
    readings = np.concatenate(test_windows[0][:6])  # 768 readings at 50 Hz
    csv = readings_csv(tmp_path / "r.csv", readings)
    out = tmp_path / "out.parquet"
    result = har(capsys, "predict", checkpoint, csv, "--overlap", overlap, "-o", out)
    assert result.code == 0, result
    df = pd.read_parquet(out)
    starts = np.arange(0, len(readings) - N_STEPS + 1, step)
    check_frame(df, len(starts))
    assert (df["start"] == starts).all()
    np.testing.assert_allclose(df["start_s"], starts / 50)
    windows = np.stack([readings[s : s + N_STEPS] for s in starts])
    np.testing.assert_allclose(df[PROBS], model_probs(checkpoint, windows), atol=2e-6)


def test_uci_text_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, checkpoint: Path
) -> None:
    archive = make_synthetic_archive(tmp_path / "a.zip")
    split = extract_split(archive, "test", tmp_path / "x")
    labels = np.loadtxt(split / "y_test.txt", dtype=int)
    for folder in (split, split / "Inertial Signals"):
        result = har(capsys, "predict", checkpoint, folder, "--format", "csv")
        assert result.code == 0, result
        df = pd.read_csv(io.StringIO(result.out))
        check_frame(df, len(labels))
        assert (df["true_activity"] == np.asarray(ACTIVITIES)[labels - 1]).all()


def test_parquet_output_format_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, checkpoint: Path, test_windows
) -> None:
    np.save(tmp_path / "w.npy", test_windows[0][:4])
    out = tmp_path / "predictions.bin"
    result = har(
        capsys, "predict", checkpoint, tmp_path / "w.npy", "--format", "parquet", "-o", out
    )
    assert result.code == 0, result
    check_frame(pq.read_table(out).to_pandas(), 4)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_registered_family_predicts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, test_windows, architecture: str
) -> None:
    x, y = test_windows
    ckpt = untrained_checkpoint(tmp_path / f"{architecture}.pt", architecture, x, y)
    x = x[:5]
    np.save(tmp_path / "w.npy", x)
    result = har(capsys, "predict", ckpt, tmp_path / "w.npy")
    assert result.code == 0, result
    df = pd.read_csv(io.StringIO(result.out))
    check_frame(df, 5)
    expected = load_checkpoint(ckpt).predict(x)
    assert (df["activity"] == np.asarray(ACTIVITIES)[expected]).all()


# --- bad inputs: exit 1, one line naming the problem -------------------------------------


def test_wrong_channel_count(capsys, tmp_path: Path, checkpoint: Path, test_windows) -> None:
    np.save(tmp_path / "w.npy", test_windows[0][:3, :, :8])
    result = har(capsys, "predict", checkpoint, tmp_path / "w.npy")
    assert_one_error_line(result, 1, "w.npy", "8 channels", "takes 9")


def test_wrong_window_length(capsys, tmp_path: Path, checkpoint: Path, test_windows) -> None:
    np.save(tmp_path / "w.npy", test_windows[0][:3, :100])
    assert_one_error_line(har(capsys, "predict", checkpoint, tmp_path / "w.npy"), 1, "100 steps")


def test_csv_missing_a_channel_column(capsys, tmp_path: Path, checkpoint: Path) -> None:
    df = pd.DataFrame(np.zeros((200, 8)), columns=list(CHANNELS[:8]))
    df.to_csv(tmp_path / "r.csv", index=False)
    result = har(capsys, "predict", checkpoint, tmp_path / "r.csv")
    assert_one_error_line(result, 1, "r.csv", "no column total_acc_z")


def test_csv_with_too_few_readings(capsys, tmp_path: Path, checkpoint: Path) -> None:
    csv = readings_csv(tmp_path / "r.csv", np.zeros((100, 9)))
    result = har(capsys, "predict", checkpoint, csv)
    assert_one_error_line(result, 1, "100 readings", "needs 128", "2.56 s at 50 Hz")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("", "empty"), ("nan", "empty"), ("inf", "inf"), ("abc", "not a number: 'abc'")],
)
def test_csv_with_a_bad_value_names_line_and_column(
    capsys, tmp_path: Path, checkpoint: Path, value: str, fragment: str
) -> None:
    csv = readings_csv(tmp_path / "r.csv", np.zeros((200, 9)))
    lines = csv.read_text().splitlines()
    cells = lines[41].split(",")
    cells[1 + CHANNELS.index("body_gyro_y")] = value  # column 0 is time_s
    lines[41] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    result = har(capsys, "predict", checkpoint, csv)
    assert_one_error_line(result, 1, "r.csv line 42 column body_gyro_y", fragment)


def test_npy_with_infinite_values(capsys, tmp_path: Path, checkpoint: Path, test_windows) -> None:
    x = test_windows[0][:5].copy()
    x[3, 5, 2] = np.inf
    np.save(tmp_path / "w.npy", x)
    result = har(capsys, "predict", checkpoint, tmp_path / "w.npy")
    assert_one_error_line(result, 1, "window 3 step 5 channel body_acc_z", "inf")


def test_npy_that_needs_pickle_is_refused(capsys, tmp_path: Path, checkpoint: Path) -> None:
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    result = har(capsys, "predict", checkpoint, tmp_path / "o.npy")
    assert_one_error_line(result, 1, "not a numeric .npy array")


def _parquet_with(path: Path, windows: np.ndarray, **metadata: object) -> Path:
    labels = np.zeros(len(windows), np.int64)
    table = split_table(windows, labels, np.ones(len(windows)), metadata=metadata)
    return write_split(table, path)


def test_parquet_with_another_channel_order(
    capsys, tmp_path: Path, checkpoint: Path, test_windows
) -> None:
    order = [*CHANNELS[3:6], *CHANNELS[:3], *CHANNELS[6:]]
    path = _parquet_with(tmp_path / "t.parquet", test_windows[0][:4], channels=order)
    result = har(capsys, "predict", checkpoint, path)
    assert_one_error_line(result, 1, "t.parquet", "channel order body_gyro_x", "differs")


def test_parquet_at_another_sampling_rate(
    capsys, tmp_path: Path, checkpoint: Path, test_windows
) -> None:
    path = _parquet_with(tmp_path / "t.parquet", test_windows[0][:4], sample_rate_hz=100)
    result = har(capsys, "predict", checkpoint, path)
    assert_one_error_line(result, 1, "sampled at 100 Hz", "trained on 50 Hz")


def test_csv_declared_at_another_sampling_rate(capsys, tmp_path: Path, checkpoint: Path) -> None:
    csv = readings_csv(tmp_path / "r.csv", np.zeros((300, 9)))
    result = har(capsys, "predict", checkpoint, csv, "--sample-rate", "100")
    assert_one_error_line(result, 1, "r.csv", "sampled at 100 Hz", "resample")
    assert har(capsys, "predict", checkpoint, csv, "--sample-rate", "50").code == 0


def test_uci_folder_missing_a_channel(capsys, tmp_path: Path, checkpoint: Path) -> None:
    split = extract_split(make_synthetic_archive(tmp_path / "a.zip"), "test", tmp_path / "x")
    (split / "Inertial Signals" / "total_acc_y_test.txt").unlink()
    result = har(capsys, "predict", checkpoint, split)
    assert_one_error_line(result, 1, "total_acc_y_test.txt: missing")


def test_uci_dataset_root_is_ambiguous(capsys, tmp_path: Path, checkpoint: Path) -> None:
    root = extract_split(make_synthetic_archive(tmp_path / "a.zip"), "test", tmp_path / "x").parent
    (root / "train").mkdir()
    assert_one_error_line(har(capsys, "predict", checkpoint, root), 1, "several splits")


@pytest.mark.parametrize("name", ["in.json", "missing.csv"])
def test_unknown_or_missing_input(capsys, tmp_path: Path, checkpoint: Path, name: str) -> None:
    if name.endswith(".json"):
        (tmp_path / name).write_text("{}")
    result = har(capsys, "predict", checkpoint, tmp_path / name)
    fragment = "unknown input type .json" if name.endswith(".json") else "no such file"
    assert_one_error_line(result, 1, name, fragment)


class _Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kind", ["garbage", "future", "code", "unknown-arch", "missing"])
def test_checkpoints_that_are_not_usable(
    capsys, tmp_path: Path, checkpoint: Path, test_windows, kind: str
) -> None:
    np.save(tmp_path / "w.npy", test_windows[0][:2])
    bad, marker = tmp_path / "bad.pt", tmp_path / "pwned"
    if kind == "garbage":
        bad.write_bytes(b"\x00not a checkpoint" * 10)
        fragment = "not a readable har-pipeline checkpoint"
    elif kind == "future":
        torch.save({"format_version": 99}, bad)
        fragment = "unsupported checkpoint format 99"
    elif kind == "code":
        bad.write_bytes(pickle.dumps({"format_version": 2, "x": _Payload(marker)}, protocol=2))
        fragment = "not a readable har-pipeline checkpoint"
    elif kind == "unknown-arch":
        payload = torch.load(checkpoint, weights_only=True)
        torch.save({**payload, "architecture": "transformer9000"}, bad)
        fragment = "unknown architecture 'transformer9000'"
    else:
        fragment = "no checkpoint at"
    result = har(capsys, "predict", bad, tmp_path / "w.npy")
    assert_one_error_line(result, 1, "bad.pt", fragment)
    assert not marker.exists()


def test_summary_json_is_not_mixed_into_stdout(
    capsys, tmp_path: Path, checkpoint: Path, test_windows
) -> None:
    """stdout is exactly the table (pipe it), remarks go to stderr."""
    np.save(tmp_path / "w.npy", test_windows[0][:3])
    result = har(capsys, "predict", checkpoint, tmp_path / "w.npy")
    assert result.out.splitlines()[0].startswith("window,start,start_s,activity")
    assert len(result.out.splitlines()) == 4
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.err)
