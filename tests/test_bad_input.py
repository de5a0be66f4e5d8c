"""Bad input: each gets a clear error naming the file and line (or entry) and leaves tensors/ alone."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from data_contracts.dataset import (
    N_FEATURES,
    features_member,
    labels_member,
    signal_member,
    subjects_member,
)
from data_contracts.raw_suite import validate_raw
from data_contracts.validation import ContractError
from har_data.archive import ArchiveError, DownloadError, extract
from har_data.raw import RawDataError, read_split
from har_data.synthetic import format_row, synthetic_files, write_archive

Edit = Callable[[dict[str, str]], None]
BODY_X = signal_member("train", "body_acc_x")


def _replace_line(member: str, line: int, text: str) -> Edit:
    def edit(files: dict[str, str]) -> None:
        lines = files[member].splitlines(keepends=True)
        end = "\r\n" if lines[line - 1].endswith("\r\n") else "\n"
        lines[line - 1] = text + end
        files[member] = "".join(lines)

    return edit


def _bad_archive(tmp_path: Path, edit: Edit, name: str = "bad.zip") -> Path:
    files = synthetic_files()
    edit(files)
    tmp_path.mkdir(parents=True, exist_ok=True)
    return write_archive(tmp_path / name, files)


def _parse(tmp_path: Path, edit: Edit) -> dict:
    archive = _bad_archive(tmp_path, edit)
    extract(archive, tmp_path / "x")
    return {s: read_split(tmp_path / "x", s) for s in ("train", "test")}


# --- format errors: raised by the parser with file and line -------------------------------
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _replace_line(BODY_X, 5, format_row(np.ones(127))),
            "line 5: has 127 values, expected 128",
        ),
        (
            _replace_line(
                BODY_X, 7, format_row(np.ones(64)) + " 1.0e-0x1" + format_row(np.ones(63))
            ),
            "line 7: value 65 is not a number: '1.0e-0x1'",
        ),
        (
            _replace_line(BODY_X, 9, format_row(np.ones(127)) + " NaN"),
            "line 9: value 128 is not finite",
        ),
    ],
    ids=["127-values", "non-numeric", "nan"],
)
def test_signal_format_errors(tmp_path: Path, edit: Edit, message: str) -> None:
    with pytest.raises(RawDataError, match=f"{BODY_X} {message}"):
        _parse(tmp_path, edit)


# --- contract errors: found by the Great Expectations raw suite ---------------------------
def _drop(member: str) -> Edit:
    return lambda files: files.pop(member)


def _shorten(member: str) -> Edit:
    def edit(files: dict[str, str]) -> None:
        files[member] = "".join(files[member].splitlines(keepends=True)[:-1])

    return edit


def _features(split: str, rows: int, width: int = N_FEATURES) -> Edit:
    """Add the optional X_<split>.txt (561 features per line)."""

    def edit(files: dict[str, str]) -> None:
        files[features_member(split)] = "".join(
            format_row(np.zeros(width)) + "\r\n" for _ in range(rows)
        )

    return edit


def test_features_file_is_validated_when_present(tmp_path: Path) -> None:
    splits = _parse(tmp_path, _features("test", rows=24))
    assert splits["test"].features_rows == 24
    with pytest.raises(RawDataError, match=r"X_train.txt line 1: has 560 values, expected 561"):
        _parse(tmp_path / "w", _features("train", rows=48, width=560))


@pytest.mark.parametrize(
    ("edit", "messages"),
    [
        (
            _drop(signal_member("test", "body_gyro_z")),
            ["exists", signal_member("test", "body_gyro_z")],
        ),
        (
            _replace_line(labels_member("train"), 4, "7"),
            [f"{labels_member('train')} line 4", "label=7"],
        ),
        (
            _replace_line(subjects_member("test"), 2, "31"),
            [f"{subjects_member('test')} line 2", "subject=31"],
        ),
        (
            _replace_line(subjects_member("test"), 3, "1"),
            ["subject 1", f"{subjects_member('train')} line", f"{subjects_member('test')} line 3"],
        ),
        (_shorten(labels_member("train")), [labels_member("train"), "rows=47", "value_set=[48]"]),
        (_features("train", rows=47), [features_member("train"), "rows=47", "value_set=[48]"]),
    ],
    ids=["missing-signal", "label-7", "subject-31", "subject-in-both", "y-short", "X-short"],
)
def test_raw_contract_errors(tmp_path: Path, edit: Edit, messages: list[str]) -> None:
    report = validate_raw(_parse(tmp_path, edit), profile="custom")
    assert not report.success
    text = "\n".join(report.failures)
    for m in messages:
        assert m in text
    assert "FAILED" in report.markdown()


def test_good_archive_passes_raw_contract(tmp_path: Path) -> None:
    report = validate_raw(_parse(tmp_path, lambda f: None), profile="custom")
    assert report.success and report.failures == []


# --- through the flow: tensors/ must stay exactly as it was -------------------------------
@pytest.fixture(scope="module")
def published_home(tmp_path_factory, prefect_harness) -> Path:
    from flows.ingest import ingest

    tmp = tmp_path_factory.mktemp("published")
    good = write_archive(tmp / "good.zip", synthetic_files(seed=3))
    ingest(source=str(good), data_home=str(tmp / "home"), profile="custom")
    return tmp / "home"


def _snapshot(home: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p.relative_to(home)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted((home / "tensors").rglob("*"))
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.usefixtures("prefect_harness")
def test_flow_failures_leave_tensors_unchanged(
    published_home: Path, tmp_path: Path, monkeypatch
) -> None:
    import flows.ingest as flow_module
    from flows.ingest import ingest

    before = _snapshot(published_home)
    assert len(before) == 3
    home = str(published_home)

    label7 = _bad_archive(tmp_path, _replace_line(labels_member("train"), 4, "7"))
    with pytest.raises(ContractError, match=r"y_train.txt line 4: label=7"):
        ingest(source=str(label7), data_home=home, profile="custom")
    assert _snapshot(published_home) == before

    nan = _bad_archive(
        tmp_path, _replace_line(BODY_X, 2, format_row(np.ones(127)) + " nan"), "n.zip"
    )
    with pytest.raises(RawDataError, match=r"body_acc_x_train.txt line 2: value 128 is not finite"):
        ingest(source=str(nan), data_home=home, profile="custom")
    assert _snapshot(published_home) == before

    with pytest.raises(ArchiveError, match="sha256 mismatch"):
        ingest(source=str(label7), expected_sha256="ab" * 32, data_home=home, profile="custom")
    assert _snapshot(published_home) == before

    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(label7.read_bytes()[:5000])
    with pytest.raises(ArchiveError, match=r"truncated.zip \(raw/.*\): not a readable zip"):
        ingest(source=str(truncated), data_home=home, profile="custom")
    assert _snapshot(published_home) == before

    # Network errors are retried (quickly here), then reported with the URL.
    fast = flow_module.fetch_archive.with_options(retries=1, retry_delay_seconds=0)
    monkeypatch.setattr(flow_module, "fetch_archive", fast)
    url = f"http://127.0.0.1:{_closed_port()}/UCI%20HAR%20Dataset.zip"
    with pytest.raises(DownloadError, match=r"127.0.0.1"):
        ingest(source=url, data_home=home, profile="custom")
    assert _snapshot(published_home) == before
