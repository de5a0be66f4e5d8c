"""Parse the UCI HAR text files into arrays, fast, with errors that name the file and line.

The fast path is pandas' C whitespace reader; when it fails or its result looks wrong
(ragged lines, NaN, text), a line-by-line scan finds the first bad line and says which.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from data_contracts.dataset import (
    CHANNELS,
    N_FEATURES,
    N_STEPS,
    features_member,
    labels_member,
    signal_member,
    subjects_member,
)


class RawDataError(ValueError):
    """A raw text file breaks the format; the message names the file and line."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file, self.line, self.problem = file, line, problem
        where = f"{file} line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _diagnose(data: bytes, name: str, n_values: int) -> RawDataError:
    """Scan line by line for the first line that is not ``n_values`` finite numbers."""
    for i, line in enumerate(data.splitlines(), start=1):
        tokens = line.split()
        for j, tok in enumerate(tokens, start=1):
            try:
                v = float(tok)
            except ValueError:
                text = tok.decode(errors="replace")
                return RawDataError(name, i, f"value {j} is not a number: {text!r}")
            if not np.isfinite(v):
                return RawDataError(name, i, f"value {j} is not finite: {tok.decode()!r}")
        if len(tokens) != n_values:
            return RawDataError(name, i, f"has {len(tokens)} values, expected {n_values}")
    return RawDataError(name, None, "could not be parsed as a table of numbers")


def parse_matrix(path: Path, name: str, n_values: int) -> np.ndarray:
    """Read a whitespace-separated file of ``n_values`` finite numbers per line: (rows, n) float64."""
    data = path.read_bytes()
    n_lines = _count_lines(data)
    if n_lines == 0:
        return np.empty((0, n_values), np.float64)
    try:
        arr = pd.read_csv(
            io.BytesIO(data),
            sep=r"\s+",
            header=None,
            engine="c",
            dtype=np.float64,
            skip_blank_lines=False,
        ).to_numpy()
    except (ValueError, pd.errors.ParserError):
        raise _diagnose(data, name, n_values) from None
    if arr.shape != (n_lines, n_values) or not np.isfinite(arr).all():
        raise _diagnose(data, name, n_values)
    return arr


def parse_ints(path: Path, name: str) -> np.ndarray:
    """Read a file of one integer per line (labels, subjects) as int64."""
    data = path.read_bytes()
    n_lines = _count_lines(data)
    try:
        values = np.array(data.split(), dtype=np.int64)
        if len(values) == n_lines:
            return values
    except ValueError:
        pass
    for i, line in enumerate(data.splitlines(), start=1):
        tokens = line.split()
        if len(tokens) != 1:
            raise RawDataError(name, i, f"has {len(tokens)} values, expected one integer")
        try:
            int(tokens[0])
        except ValueError:
            raise RawDataError(name, i, f"not an integer: {tokens[0].decode()!r}") from None
    raise RawDataError(name, None, "could not be parsed as one integer per line")


@dataclass
class RawSplit:
    """One split as parsed from text; files that were absent are listed in ``missing``."""

    split: str
    signals: dict[str, np.ndarray] = field(default_factory=dict)  # channel -> (rows, 128)
    labels: np.ndarray | None = None  # 1-based, as in y_*.txt
    subjects: np.ndarray | None = None
    features_rows: int | None = None  # X_*.txt, when present
    missing: list[str] = field(default_factory=list)

    def file_rows(self) -> dict[str, int | None]:
        """Archive member -> row count (None when missing), for the raw contract."""
        rows: dict[str, int | None] = {
            signal_member(self.split, c): (
                len(a) if (a := self.signals.get(c)) is not None else None
            )
            for c in CHANNELS
        }
        rows[labels_member(self.split)] = None if self.labels is None else len(self.labels)
        rows[subjects_member(self.split)] = None if self.subjects is None else len(self.subjects)
        if self.features_rows is not None:
            rows[features_member(self.split)] = self.features_rows
        return rows

    def windows(self) -> np.ndarray:
        """(N, 128, 9) float32 in ``CHANNELS`` order; call only after the raw contract passed."""
        if self.labels is None:
            raise ValueError(f"{self.split}: no labels were read; check the raw contract first")
        out = np.empty((len(self.labels), N_STEPS, len(CHANNELS)), np.float32)
        for i, c in enumerate(CHANNELS):
            out[:, :, i] = self.signals[c]
        return out


def read_split(extract_dir: Path, split: str) -> RawSplit:
    """Parse one split under ``extract_dir`` (the folder that holds ``UCI HAR Dataset/``).

    Format errors raise :class:`RawDataError`; missing files are recorded, not raised,
    so the raw contract can report all of them at once.
    """
    raw = RawSplit(split)

    def path_of(member: str) -> Path | None:
        p = extract_dir / member
        if p.is_file():
            return p
        raw.missing.append(member)
        return None

    for c in CHANNELS:
        member = signal_member(split, c)
        if (p := path_of(member)) is not None:
            raw.signals[c] = parse_matrix(p, member, N_STEPS)
    if (p := path_of(labels_member(split))) is not None:
        raw.labels = parse_ints(p, labels_member(split))
    if (p := path_of(subjects_member(split))) is not None:
        raw.subjects = parse_ints(p, subjects_member(split))
    features = extract_dir / features_member(split)
    if features.is_file():  # optional: validated when present
        raw.features_rows = len(parse_matrix(features, features_member(split), N_FEATURES))
    return raw


def read_value(extract_dir: Path, split: str, channel: str, line: int, step: int) -> float:
    """One value straight from the text (for spot checks against the tensors)."""
    text = (extract_dir / signal_member(split, channel)).read_text().splitlines()[line - 1]
    return float(text.split()[step])
