"""Training data as arrays: the Parquet splits, and a validation set of whole subjects.

Validation holds out whole training subjects (never windows of a subject seen in training,
never the test split), so model selection is as honest as the final test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from har_data.tensors import load_split, read_metadata


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # (N, 128, 9) float32
    y: np.ndarray  # (N,) int64, 0-based
    subject: np.ndarray  # (N,)

    def subset(self, mask: np.ndarray) -> Split:
        return Split(self.x[mask], self.y[mask], self.subject[mask])

    def __len__(self) -> int:
        return len(self.y)


def read_split(path: str | os.PathLike[str]) -> Split:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no tensor file at {path}: run the ingest flow first")
    return Split(*load_split(path))


def data_sha256(path: str | os.PathLike[str]) -> str:
    """The archive sha256 the tensors were built from (their provenance metadata)."""
    return str(read_metadata(path).get("archive_sha256", ""))


def validation_subjects(subjects: np.ndarray, seed: int, fraction: float = 0.2) -> np.ndarray:
    """About ``fraction`` of the distinct subjects, chosen by ``seed`` (at least one)."""
    unique = np.unique(subjects)
    if len(unique) < 2:
        raise ValueError(f"need at least 2 training subjects to hold some out, got {len(unique)}")
    n_val = min(len(unique) - 1, max(1, round(fraction * len(unique))))
    return np.sort(np.random.default_rng(seed).choice(unique, n_val, replace=False))


def subject_folds(subjects: np.ndarray, seed: int, k: int) -> list[np.ndarray]:
    """The distinct subjects in ``k`` folds of near-equal size (fewer where there are fewer
    subjects), shuffled by ``seed``: every subject is held out exactly once."""
    unique = np.unique(subjects)
    if len(unique) < 2:
        raise ValueError(f"need at least 2 training subjects to hold some out, got {len(unique)}")
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    shuffled = np.random.default_rng(seed).permutation(unique)
    return [np.sort(f) for f in np.array_split(shuffled, min(k, len(unique)))]


def subject_split(train: Split, seed: int, fraction: float = 0.2) -> tuple[Split, Split]:
    """(fit, validation): validation is whole held-out training subjects."""
    held_out = np.isin(train.subject, validation_subjects(train.subject, seed, fraction))
    return train.subset(~held_out), train.subset(held_out)
