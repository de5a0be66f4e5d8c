"""The ingest flow end to end on a synthetic archive, under the Prefect test harness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from data_contracts.dataset import CHANNELS, INNER_ZIP_NAME
from flows.ingest import ingest
from har_data.archive import sha256_file
from har_data.layout import DataHome
from har_data.synthetic import make_windows, write_archive
from har_data.tensors import SCHEMA, load_split, read_metadata
from tasks.ingest import MANIFEST, read_manifest

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_ingest_synthetic_then_reuse(synthetic_archive: Path, tmp_path: Path, caplog) -> None:
    home = tmp_path / "home"
    result = ingest(source=str(synthetic_archive), data_home=str(home), profile="custom")
    sha = sha256_file(synthetic_archive)
    assert result.archive_sha256 == sha and not result.reused
    layout = DataHome.resolve(home)
    assert result.train_path == str(layout.split_path("train"))
    assert (layout.raw / f"{sha}.zip").is_file()
    assert sorted(p.name for p in layout.tensors.iterdir()) == [
        MANIFEST,
        "test.parquet",
        "train.parquet",
    ]

    # Same windows as the generator wrote (train split uses seed + 0 in synthetic_files).
    x, y, s = load_split(result.train_path)
    x_ref, y_ref, s_ref = make_windows(2, (1, 3, 5, 6), seed=0)
    np.testing.assert_array_equal(x, x_ref.astype(np.float32))
    np.testing.assert_array_equal(y, y_ref - 1)
    np.testing.assert_array_equal(s, s_ref)
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (48, 128, 9)

    schema = pq.read_schema(result.test_path)
    assert schema.remove_metadata().equals(SCHEMA)
    meta = read_metadata(result.test_path)
    assert meta["archive_sha256"] == sha and meta["split"] == "test"
    assert meta["source"] == str(synthetic_archive) and meta["channels"] == list(CHANNELS)
    assert read_manifest(layout)["rows"] == {"train": 48, "test": 24}

    before = {p.name: p.stat().st_mtime_ns for p in layout.tensors.iterdir()}
    caplog.clear()
    again = ingest(source=synthetic_archive.as_uri(), data_home=str(home), profile="custom")
    assert again.reused and again.archive_sha256 == sha
    assert {p.name: p.stat().st_mtime_ns for p in layout.tensors.iterdir()} == before
    assert "Reusing published tensors" in caplog.text


def test_ingest_nested_archive_from_env(
    synthetic_archive: Path, tmp_path: Path, monkeypatch
) -> None:
    outer = write_archive(tmp_path / "outer.zip", {INNER_ZIP_NAME: synthetic_archive.read_bytes()})
    monkeypatch.setenv("HAR_SOURCE", str(outer))
    monkeypatch.setenv("HAR_HOME", str(tmp_path / "envhome"))
    result = ingest(source=None, expected_sha256=sha256_file(outer), profile="custom")
    assert result.archive_sha256 == sha256_file(outer)
    assert Path(result.test_path).parent == tmp_path / "envhome" / "tensors"
    assert len(load_split(result.test_path)[1]) == 24


def test_official_profile_rejects_synthetic(synthetic_archive: Path, tmp_path: Path) -> None:
    from data_contracts.validation import ContractError

    with pytest.raises(ContractError, match="expect_table_row_count_to_equal"):
        ingest(source=str(synthetic_archive), data_home=str(tmp_path / "h"), profile="official")
    assert not (tmp_path / "h" / "tensors").exists()
