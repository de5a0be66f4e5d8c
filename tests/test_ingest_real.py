"""The real UCI HAR archive end to end: the official facts hold after ingest."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from data_contracts.dataset import (
    CHANNELS,
    OFFICIAL_LABEL_COUNTS,
    OFFICIAL_ROWS,
    OFFICIAL_SUBJECTS,
    signal_member,
)
from har_data.tensors import load_split, read_metadata

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def test_ingest_real_archive(real_archive: Path, tmp_path: Path) -> None:
    from flows.ingest import ingest

    result = ingest(source=str(real_archive), data_home=str(tmp_path / "home"))
    assert not result.reused
    paths = {"train": result.train_path, "test": result.test_path}
    for split, path in paths.items():
        x, y, s = load_split(path)
        assert x.shape == (OFFICIAL_ROWS[split], 128, 9) and x.dtype == np.float32
        assert tuple(np.bincount(y, minlength=6)) == OFFICIAL_LABEL_COUNTS[split]
        assert tuple(np.unique(s)) == OFFICIAL_SUBJECTS[split]
        assert read_metadata(path)["archive_sha256"] == result.archive_sha256

    # One value, parsed independently straight from the zip: test line 1234, step 77, body_gyro_y.
    line, step, channel = 1234, 77, "body_gyro_y"
    with zipfile.ZipFile(real_archive) as zf:
        text = zf.read(signal_member("test", channel)).decode().splitlines()[line - 1]
    expected = np.float32(float(text.split()[step]))
    x_test, _, _ = load_split(paths["test"])
    assert x_test[line - 1, step, CHANNELS.index(channel)] == expected

    again = ingest(source=str(real_archive), data_home=str(tmp_path / "home"))
    assert again.reused and again.archive_sha256 == result.archive_sha256
