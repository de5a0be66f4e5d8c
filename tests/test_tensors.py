"""Parquet tensor files: several row groups (the published layout) read back exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from data_contracts.dataset import WINDOW_SHAPE
from har_data.tensors import ROW_GROUP_SIZE, load_split, split_table, write_split


def test_row_groups_round_trip(tmp_path: Path) -> None:
    n = 2 * ROW_GROUP_SIZE + 7
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, *WINDOW_SHAPE)).astype(np.float32)
    y = rng.integers(0, 6, n)
    s = rng.integers(1, 31, n).astype(np.int16)
    path = write_split(split_table(x, y, s), tmp_path / "train.parquet")
    assert pq.ParquetFile(path).metadata.num_row_groups == math.ceil(n / ROW_GROUP_SIZE)
    x2, y2, s2 = load_split(path)
    assert x2.dtype == np.float32 and x2.flags.c_contiguous
    np.testing.assert_array_equal(x2, x)  # bit-exact floats in channel order
    np.testing.assert_array_equal(y2, y)
    np.testing.assert_array_equal(s2, s)
    one_group = write_split(split_table(x, y, s), tmp_path / "one.parquet", row_group_size=n)
    np.testing.assert_array_equal(load_split(one_group)[0], x)
