"""Windows to predict on, from the inputs people have: a Parquet split from ingest, a ``.npy``
array, a CSV of raw readings, or a folder in the UCI text layout.

Every reader returns :class:`Windows` in the layout a model expects (:class:`WindowSpec`:
its channel order, window length and sampling rate, which a checkpoint records). Anything
that does not fit (a missing or extra channel, another channel order or sampling rate, too
few readings, a value that is not a finite number) raises :class:`InputError`, one line that
names the file and, where there is one, the line and column. Nothing read runs code: ``.npy``
files are loaded without pickles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data_contracts.dataset import ACTIVITIES, CHANNELS, N_STEPS, SAMPLE_RATE_HZ
from har_data.raw import RawDataError, parse_ints, parse_matrix

DEFAULT_OVERLAP = 0.5  # the UCI HAR windows overlap by half (2.56 s windows, 1.28 s apart)
SIGNALS_DIR = "Inertial Signals"
INPUT_KINDS = ("parquet", "npy", "csv", "uci folder")


class InputError(ValueError):
    """An input that cannot be windowed for this model; the message names where and why."""


@dataclass(frozen=True)
class WindowSpec:
    """What a model takes: channels in order, steps per window, readings per second."""

    channels: tuple[str, ...] = CHANNELS
    n_steps: int = N_STEPS
    sample_rate_hz: float = SAMPLE_RATE_HZ

    def describe_channels(self) -> str:
        return ", ".join(self.channels)


@dataclass(frozen=True)
class Windows:
    """Windows (N, n_steps, n_channels) float32 in the spec's channel order, and where each
    starts: ``start`` is the first reading's 0-based row for raw readings (CSV, 2-D ``.npy``)
    and the window's own index for inputs that are already windows; ``start_s`` is that
    row in seconds (None for inputs that are already windows: their timing is not stored)."""

    x: np.ndarray
    start: np.ndarray
    start_s: np.ndarray | None = None
    labels: np.ndarray | None = None  # 0-based true labels, where the input has them
    kind: str = ""

    def __len__(self) -> int:
        return len(self.x)


def window_starts(n_rows: int, n_steps: int, overlap: float) -> np.ndarray:
    """0-based first rows of the windows that fit in ``n_rows`` readings; the rest of the
    readings after the last whole window are not used."""
    if not 0 <= overlap < 1:
        raise InputError(f"overlap must be at least 0 and below 1, got {overlap}")
    step = max(1, round(n_steps * (1 - overlap)))
    if n_rows < n_steps:
        return np.empty(0, np.int64)
    return np.arange(0, n_rows - n_steps + 1, step, dtype=np.int64)


def sliding_windows(
    readings: np.ndarray, n_steps: int, overlap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cut raw readings (rows, channels) into windows (N, n_steps, channels) and their starts."""
    starts = window_starts(len(readings), n_steps, overlap)
    if len(starts) == 0:
        return np.empty((0, n_steps, readings.shape[1]), np.float32), starts
    view = np.lib.stride_tricks.sliding_window_view(readings, n_steps, axis=0)  # (R', C, T)
    return np.ascontiguousarray(view[starts].transpose(0, 2, 1), dtype=np.float32), starts


def check_rate(source: str, declared: float | None, spec: WindowSpec) -> None:
    """Refuse readings sampled at another rate than the model was trained on."""
    if declared is not None and float(declared) != float(spec.sample_rate_hz):
        raise InputError(
            f"{source}: sampled at {declared:g} Hz, but the model was trained on "
            f"{spec.sample_rate_hz:g} Hz readings; resample the input to {spec.sample_rate_hz:g} Hz"
        )


def check_finite_windows(source: str, x: np.ndarray, spec: WindowSpec) -> None:
    """Name the first window, step and channel that is NaN or infinite."""
    bad = ~np.isfinite(x)
    if bad.any():
        w, t, c = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"{source}: window {w} step {t} channel {spec.channels[c]} is {x[w, t, c]} "
            f"({int(bad.sum())} values are NaN or infinite); clean or drop them first"
        )


def _too_few(source: str, n_rows: int, spec: WindowSpec) -> InputError:
    seconds = spec.n_steps / spec.sample_rate_hz
    return InputError(
        f"{source}: {n_rows} readings, but one window needs {spec.n_steps} "
        f"({seconds:g} s at {spec.sample_rate_hz:g} Hz)"
    )


def _check_channel_count(source: str, n: int, spec: WindowSpec) -> None:
    if n != len(spec.channels):
        raise InputError(
            f"{source}: {n} channels, but the model takes {len(spec.channels)} "
            f"({spec.describe_channels()})"
        )


def from_readings(
    source: str, readings: np.ndarray, spec: WindowSpec, overlap: float, kind: str
) -> Windows:
    """Window raw readings (rows, channels) already in the spec's channel order."""
    _check_channel_count(source, readings.shape[1], spec)
    if len(readings) < spec.n_steps:
        raise _too_few(source, len(readings), spec)
    x, starts = sliding_windows(readings, spec.n_steps, overlap)
    return Windows(x, starts, starts / float(spec.sample_rate_hz), kind=kind)


def _csv_line(row: int) -> int:
    return row + 2  # line 1 is the header; rows are 0-based


def read_csv(
    path: Path, spec: WindowSpec, overlap: float, sample_rate_hz: float | None = None
) -> Windows:
    """A CSV of raw readings, one named column per channel (other columns are ignored),
    one row per reading at ``sample_rate_hz`` (the model's rate when not given)."""
    check_rate(str(path), sample_rate_hz, spec)
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(f"{path}: not a readable CSV ({' '.join(str(e).split())})") from None
    missing = [c for c in spec.channels if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: no column {', '.join(missing)}; the model takes one column per channel "
            f"named {spec.describe_channels()} (found: {', '.join(map(str, df.columns))})"
        )
    columns = {}
    for c in spec.channels:
        values = pd.to_numeric(df[c], errors="coerce")
        bad = values.isna() & df[c].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path} line {_csv_line(row)} column {c}: not a number: {df[c].iloc[row]!r}"
            )
        arr = values.to_numpy(np.float64)
        if not np.isfinite(arr).all():
            row = int(np.flatnonzero(~np.isfinite(arr))[0])
            what = "empty" if np.isnan(arr[row]) else f"{arr[row]}"
            raise InputError(
                f"{path} line {_csv_line(row)} column {c}: {what}, not a finite number"
            )
        columns[c] = arr
    readings = np.stack([columns[c] for c in spec.channels], axis=1).astype(np.float32)
    return from_readings(str(path), readings, spec, overlap, "csv")


def read_npy(
    path: Path, spec: WindowSpec, overlap: float, sample_rate_hz: float | None = None
) -> Windows:
    """An array of windows (N, n_steps, n_channels), or of raw readings (rows, n_channels)
    that are windowed like a CSV; channels in the model's order (an array has no names)."""
    check_rate(str(path), sample_rate_hz, spec)
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:  # object arrays need pickles: refused
        raise InputError(f"{path}: not a numeric .npy array ({e})") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: not a readable .npy file ({e})") from None
    if not isinstance(arr, np.ndarray) or not np.issubdtype(arr.dtype, np.number):
        raise InputError(
            f"{path}: expected a numeric array, got dtype {getattr(arr, 'dtype', '?')}"
        )
    if arr.ndim == 2:
        bad = ~np.isfinite(arr)
        if bad.any():
            r, c = (int(i) for i in np.argwhere(bad)[0])
            raise InputError(f"{path}: row {r} column {c} is {arr[r, c]}, not a finite number")
        return from_readings(str(path), arr.astype(np.float32), spec, overlap, "npy")
    if arr.ndim != 3:
        raise InputError(
            f"{path}: shape {arr.shape}; expected windows (N, {spec.n_steps}, "
            f"{len(spec.channels)}) or readings (rows, {len(spec.channels)})"
        )
    _check_channel_count(str(path), arr.shape[2], spec)
    if arr.shape[1] != spec.n_steps:
        raise InputError(
            f"{path}: windows of {arr.shape[1]} steps, but the model takes {spec.n_steps}"
        )
    return _windows(str(path), arr.astype(np.float32), spec, None, "npy")


def _windows(
    source: str, x: np.ndarray, spec: WindowSpec, labels: np.ndarray | None, kind: str
) -> Windows:
    if len(x) == 0:
        raise InputError(f"{source}: no windows")
    check_finite_windows(source, x, spec)
    return Windows(x, np.arange(len(x), dtype=np.int64), None, labels, kind)


def read_parquet(path: Path, spec: WindowSpec, sample_rate_hz: float | None = None) -> Windows:
    """A split written by ingest (``tensors/{train,test}.parquet``); its stored channel order
    and sampling rate must be the model's."""
    from har_data.tensors import load_split, read_metadata

    try:
        meta = read_metadata(path)
        x, y, _ = load_split(path)
    except (ValueError, OSError, KeyError) as e:
        raise InputError(f"{path}: not a tensor file written by ingest ({e})") from None
    stored = meta.get("channels")
    channels = tuple(str(c) for c in stored) if isinstance(stored, list) else ()
    if channels and channels != tuple(spec.channels):
        if sorted(channels) == sorted(spec.channels):
            raise InputError(
                f"{path}: channel order {', '.join(channels)} differs from the model's "
                f"{spec.describe_channels()}"
            )
        raise InputError(
            f"{path}: channels {', '.join(channels)}, but the model takes {spec.describe_channels()}"
        )
    stored_rate = meta.get("sample_rate_hz")
    rate = float(stored_rate) if isinstance(stored_rate, int | float) else None
    if rate is not None and sample_rate_hz is not None and rate != float(sample_rate_hz):
        raise InputError(f"{path}: sampled at {rate:g} Hz (stored), not {sample_rate_hz:g} Hz")
    check_rate(str(path), rate if rate is not None else sample_rate_hz, spec)
    _check_channel_count(str(path), x.shape[2], spec)
    if x.shape[1] != spec.n_steps:
        raise InputError(
            f"{path}: windows of {x.shape[1]} steps, but the model takes {spec.n_steps}"
        )
    return _windows(str(path), x, spec, y, "parquet")


def _signals_dir(folder: Path) -> Path:
    if (folder / SIGNALS_DIR).is_dir():
        return folder / SIGNALS_DIR
    return folder


def _split_of(signals: Path, channel: str) -> str:
    """The split suffix of ``<channel>_<split>.txt`` files: exactly one split per folder."""
    found = sorted(p.name[len(channel) + 1 : -4] for p in signals.glob(f"{channel}_*.txt"))
    if not found:
        raise InputError(
            f"{signals}: no {channel}_<split>.txt; expected a folder in the UCI HAR layout "
            f"(e.g. 'UCI HAR Dataset/test' or its '{SIGNALS_DIR}')"
        )
    if len(found) > 1:
        raise InputError(f"{signals}: several splits ({', '.join(found)}); pass one folder each")
    return found[0]


def read_uci_folder(path: Path, spec: WindowSpec, sample_rate_hz: float | None = None) -> Windows:
    """One split of the UCI text layout: ``<channel>_<split>.txt`` under ``Inertial Signals``
    (one window of ``n_steps`` values per line), with ``y_<split>.txt`` beside it if present."""
    check_rate(str(path), sample_rate_hz, spec)
    if any((path / s).is_dir() for s in ("train", "test")) and not (path / SIGNALS_DIR).is_dir():
        raise InputError(f"{path}: holds several splits; pass one of them (e.g. {path / 'test'})")
    signals = _signals_dir(path)
    split = _split_of(signals, spec.channels[0])
    arrays = []
    for c in spec.channels:
        file = signals / f"{c}_{split}.txt"
        if not file.is_file():
            raise InputError(f"{file}: missing; the model takes {spec.describe_channels()}")
        try:
            arrays.append(parse_matrix(file, str(file), spec.n_steps))
        except RawDataError as e:
            raise InputError(str(e)) from None
    rows = {len(a) for a in arrays}
    if len(rows) != 1:
        raise InputError(f"{signals}: the channel files have different line counts {sorted(rows)}")
    x = np.stack(arrays, axis=2).astype(np.float32)
    labels = None
    y_file = signals.parent / f"y_{split}.txt" if signals.name == SIGNALS_DIR else None
    if y_file is not None and y_file.is_file():
        try:
            y = parse_ints(y_file, str(y_file))
        except RawDataError as e:
            raise InputError(str(e)) from None
        if len(y) == len(x) and ((y >= 1) & (y <= len(ACTIVITIES))).all():
            labels = y - 1
    return _windows(str(path), x, spec, labels, "uci folder")


def read_input(
    path: str | os.PathLike[str],
    spec: WindowSpec,
    overlap: float = DEFAULT_OVERLAP,
    sample_rate_hz: float | None = None,
) -> Windows:
    """Windows from any supported input, chosen by what ``path`` is: a folder (UCI layout),
    ``.parquet``, ``.npy`` or ``.csv``."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        return read_uci_folder(path, spec, sample_rate_hz)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_parquet(path, spec, sample_rate_hz)
    if suffix == ".npy":
        return read_npy(path, spec, overlap, sample_rate_hz)
    if suffix == ".csv":
        return read_csv(path, spec, overlap, sample_rate_hz)
    raise InputError(
        f"{path}: unknown input type {suffix or '(no suffix)'}; give a .parquet file from ingest, "
        "a .npy array, a .csv of readings or a folder in the UCI HAR layout"
    )
