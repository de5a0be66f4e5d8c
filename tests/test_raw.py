"""Raw text parsing: values come back exactly, and bad lines are named by file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from data_contracts.dataset import signal_member
from har_data.raw import RawDataError, parse_ints, parse_matrix, read_split
from har_data.synthetic import format_row, make_windows, split_files


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    for member, text in files.items():
        p = tmp_path / member
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, newline="")
    return tmp_path


def test_read_split_round_trips_windows(tmp_path: Path) -> None:
    x, y, s = make_windows(1, (1, 3), seed=5)
    root = _write(tmp_path, split_files(x, y, s, "train"))
    raw = read_split(root, "train")
    assert raw.missing == [] and raw.features_rows is None
    np.testing.assert_array_equal(raw.windows(), x.astype(np.float32))
    np.testing.assert_array_equal(raw.labels, y)
    np.testing.assert_array_equal(raw.subjects, s)
    assert set(raw.file_rows().values()) == {len(y)}


def test_read_split_records_missing_files(tmp_path: Path) -> None:
    x, y, s = make_windows(1, (1,), seed=0)
    files = split_files(x, y, s, "test")
    del files[signal_member("test", "body_gyro_y")]
    raw = read_split(_write(tmp_path, files), "test")
    assert raw.missing == [signal_member("test", "body_gyro_y")]
    assert raw.file_rows()[signal_member("test", "body_gyro_y")] is None


def _matrix_file(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "m.txt"
    p.write_text("".join(r + "\r\n" for r in rows), newline="")
    return p


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (format_row(np.ones(127)), "line 3: has 127 values, expected 128"),
        (format_row(np.ones(129)), "line 3: has 129 values, expected 128"),
        (format_row(np.ones(127)) + "  abc", "line 3: value 128 is not a number: 'abc'"),
        (
            format_row(np.ones(10)) + " NaN" + format_row(np.ones(117)),
            "line 3: value 11 is not finite",
        ),
        (format_row(np.ones(127)) + "  inf", "line 3: value 128 is not finite"),
        ("", "line 3: has 0 values"),
    ],
)
def test_parse_matrix_names_the_bad_line(tmp_path: Path, bad: str, message: str) -> None:
    good = format_row(np.linspace(-1, 1, 128))
    path = _matrix_file(tmp_path, [good, good, bad, good])
    with pytest.raises(RawDataError, match=message) as e:
        parse_matrix(path, "body_acc_x_train.txt", 128)
    assert e.value.file == "body_acc_x_train.txt" and e.value.line == 3


def test_parse_matrix_first_line_short(tmp_path: Path) -> None:
    good = format_row(np.zeros(128))
    path = _matrix_file(tmp_path, [format_row(np.zeros(127)), good])
    with pytest.raises(RawDataError, match=r"f.txt line 1: has 127 values"):
        parse_matrix(path, "f.txt", 128)


def test_parse_matrix_values_exact(tmp_path: Path) -> None:
    rows = np.round(np.random.default_rng(1).normal(size=(3, 128)), 6)
    path = _matrix_file(tmp_path, [format_row(r) for r in rows])
    np.testing.assert_allclose(parse_matrix(path, "f", 128), rows, rtol=1e-7)


def test_parse_ints(tmp_path: Path) -> None:
    p = tmp_path / "y.txt"
    p.write_text("1\n2\n6\n")
    np.testing.assert_array_equal(parse_ints(p, "y"), [1, 2, 6])
    p.write_text("1\n2.5\n6\n")
    with pytest.raises(RawDataError, match=r"y line 2: not an integer: '2.5'"):
        parse_ints(p, "y")
    p.write_text("1\n\n6\n")
    with pytest.raises(RawDataError, match="y line 2: has 0 values"):
        parse_ints(p, "y")
