"""Parquet tensor files: one row per window, ``window`` a fixed-shape float32 tensor (128, 9).

Schema metadata records where the data came from so every downstream result can cite it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts.dataset import ACTIVITIES, CHANNELS, SAMPLE_RATE_HZ, WINDOW_SHAPE

METADATA_KEY = b"har_pipeline"
# Chosen by measurement (benchmarks/ingest.py, BENCHMARKS.md): zstd on byte-stream-split
# floats is the smallest file that still reads fast. Dictionary encoding must be off for
# the window values, or Parquet tries a dictionary first and never splits the bytes.
# Row groups of 512 windows read about 1.5x faster than one big group, for 0.4 % more bytes.
WINDOW_LEAF = "window.list.element"
ROW_GROUP_SIZE = 512
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "row_group_size": ROW_GROUP_SIZE,
    "use_dictionary": ["label", "activity", "subject", "row"],
    "use_byte_stream_split": [WINDOW_LEAF],
}
WINDOW_TYPE = pa.fixed_shape_tensor(pa.float32(), WINDOW_SHAPE)
SCHEMA = pa.schema(
    [
        pa.field("window", WINDOW_TYPE, nullable=False),
        pa.field("label", pa.int8(), nullable=False),
        pa.field("activity", pa.string(), nullable=False),
        pa.field("subject", pa.int16(), nullable=False),
        pa.field("row", pa.int32(), nullable=False),
    ]
)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("har-pipeline")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def split_table(
    windows: np.ndarray,
    labels0: np.ndarray,
    subjects: np.ndarray,
    rows: np.ndarray | None = None,
    metadata: Mapping[str, object] | None = None,
) -> pa.Table:
    """Build the Arrow table of one split. ``labels0`` are 0-based; ``rows`` 1-based line numbers."""
    windows = np.ascontiguousarray(windows, dtype=np.float32)
    if windows.ndim != 3 or windows.shape[1:] != WINDOW_SHAPE:
        raise ValueError(f"windows must have shape (N, {WINDOW_SHAPE}), got {windows.shape}")
    n = len(windows)
    labels0 = np.asarray(labels0, dtype=np.int8)
    rows = np.arange(1, n + 1, dtype=np.int32) if rows is None else np.asarray(rows, np.int32)
    meta = {
        "channels": list(CHANNELS),
        "activities": list(ACTIVITIES),
        "sample_rate_hz": SAMPLE_RATE_HZ,
        "window_shape": list(WINDOW_SHAPE),
        "version": package_version(),
        **(metadata or {}),
    }
    table = pa.table(
        {
            "window": pa.FixedShapeTensorArray.from_numpy_ndarray(windows),
            "label": pa.array(labels0, pa.int8()),
            "activity": pa.array(np.asarray(ACTIVITIES, dtype=object)[labels0], pa.string()),
            "subject": pa.array(np.asarray(subjects, np.int16), pa.int16()),
            "row": pa.array(rows, pa.int32()),
        },
        schema=SCHEMA,
    )
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})


def write_split(table: pa.Table, path: str | os.PathLike[str], **parquet_options: object) -> Path:
    """Write one split; callers own atomicity (write to a temp dir, validate, then rename)."""
    opts: dict[str, object] = dict(PARQUET_OPTIONS)
    opts.update(parquet_options)
    path = Path(path)
    pq.write_table(table, path, **opts)
    return path


# A path, or the file's bytes in a ``pyarrow.BufferReader`` (checked bytes, read once).
Source: TypeAlias = str | os.PathLike[str] | pa.NativeFile


def read_metadata(path: Source) -> dict[str, Any]:
    """The provenance stored with a split (source, archive sha256, channels, ...)."""
    meta = pq.read_schema(path).metadata or {}
    if METADATA_KEY not in meta:
        raise ValueError(f"{path}: not a har-pipeline tensor file (no {METADATA_KEY!r} metadata)")
    return json.loads(meta[METADATA_KEY])


def load_split(path: Source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a split: ``X`` (N, 128, 9) float32, ``y`` 0-based int64 labels, ``subject`` int16.

    A single-row-group window column is a view on Arrow's buffer; the published files
    have several row groups (faster to decode), whose chunks are copied once into ``X``.
    """
    table = pq.read_table(path, columns=["window", "label", "subject"], memory_map=True)
    col = table.column("window")
    if col.num_chunks == 1:
        x = col.chunk(0).to_numpy_ndarray()
    else:
        x = np.concatenate([c.to_numpy_ndarray() for c in col.chunks])
    y = table.column("label").to_numpy().astype(np.int64)
    s = table.column("subject").to_numpy()
    return x, y, s
