"""Small synthetic archives with the real UCI HAR layout, for tests and quick demos.

Signals are plausible and class-separable (each activity has its own gait frequency,
amplitude and gravity direction), so a model can learn them in an epoch or two.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from data_contracts.dataset import (
    ACTIVITIES,
    CHANNELS,
    N_STEPS,
    ROOT_DIR,
    SAMPLE_RATE_HZ,
    labels_member,
    signal_member,
    subjects_member,
)

DEFAULT_SUBJECTS = {"train": (1, 3, 5, 6), "test": (2, 4)}

# Per activity: gait frequency (Hz), body-acc amplitude (g), gravity direction (x, y, z).
_PROFILE = {
    "WALKING": (1.8, 0.30, (1.0, -0.2, 0.1)),
    "WALKING_UPSTAIRS": (1.5, 0.25, (0.9, -0.3, 0.3)),
    "WALKING_DOWNSTAIRS": (2.2, 0.45, (1.0, -0.1, -0.2)),
    "SITTING": (0.0, 0.01, (0.8, 0.2, 0.5)),
    "STANDING": (0.0, 0.01, (1.0, -0.25, 0.0)),
    "LAYING": (0.0, 0.01, (0.0, 0.6, 0.8)),
}


def format_row(values: np.ndarray) -> str:
    """One text line as the original files write it: ``%.7e`` with a 3-digit exponent, width 16."""
    out = []
    for v in values:
        mant, exp = f"{v:.7e}".split("e")
        out.append(f"{mant}e{int(exp):+04d}".rjust(16))
    return "".join(out)


def make_windows(
    n_per_class_subject: int, subjects: tuple[int, ...], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (X (N, 128, 9) float64, labels 1..6, subjects) for the given subjects."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_STEPS) / SAMPLE_RATE_HZ
    xs, ys, ss = [], [], []
    for subject in subjects:
        for k, name in enumerate(ACTIVITIES, start=1):
            freq, amp, gravity = _PROFILE[name]
            for _ in range(n_per_class_subject):
                phase = rng.uniform(0, 2 * np.pi, size=3)
                body = amp * np.sin(2 * np.pi * freq * t[:, None] + phase) if freq else 0 * phase
                body = body + rng.normal(0, 0.02, size=(N_STEPS, 3))
                gyro = 0.8 * body[:, ::-1] + rng.normal(0, 0.02, size=(N_STEPS, 3))
                total = body + np.asarray(gravity) + rng.normal(0, 0.01, size=(N_STEPS, 3))
                xs.append(np.concatenate([body, gyro, total], axis=1))
                ys.append(k)
                ss.append(subject)
    order = rng.permutation(len(ys))
    x = np.round(np.stack(xs)[order], 6)
    return x, np.asarray(ys)[order], np.asarray(ss)[order]


def split_files(
    x: np.ndarray, labels: np.ndarray, subjects: np.ndarray, split: str
) -> dict[str, str]:
    """Archive member -> text, for one split (CRLF line ends, like the original)."""
    files = {
        signal_member(split, c): "".join(format_row(row) + "\r\n" for row in x[:, :, i])
        for i, c in enumerate(CHANNELS)
    }
    files[labels_member(split)] = "".join(f"{v}\n" for v in labels)
    files[subjects_member(split)] = "".join(f"{v}\n" for v in subjects)
    return files


def synthetic_files(
    n_per_class_subject: int = 2,
    subjects: dict[str, tuple[int, ...]] | None = None,
    seed: int = 0,
) -> dict[str, str]:
    """All members of a synthetic archive, by their path inside the zip."""
    subjects = subjects or DEFAULT_SUBJECTS
    files = {
        f"{ROOT_DIR}/activity_labels.txt": "".join(
            f"{k} {name}\n" for k, name in enumerate(ACTIVITIES, start=1)
        ),
        f"{ROOT_DIR}/README.txt": "Synthetic archive with the UCI HAR layout (har-pipeline tests).\n",
    }
    for i, split in enumerate(("train", "test")):
        x, y, s = make_windows(n_per_class_subject, subjects[split], seed + i)
        files.update(split_files(x, y, s, split))
    return files


def write_archive(path: str | os.PathLike[str], files: Mapping[str, str | bytes]) -> Path:
    """Write members to a zip (deflated), as the UCI archive is."""
    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in sorted(files.items()):
            zf.writestr(name, text.encode() if isinstance(text, str) else text)
    path.write_bytes(buf.getvalue())
    return path


def make_synthetic_archive(
    path: str | os.PathLike[str],
    n_per_class_subject: int = 2,
    subjects: dict[str, tuple[int, ...]] | None = None,
    seed: int = 0,
) -> Path:
    """Write a small archive with the real layout; returns its path."""
    return write_archive(path, synthetic_files(n_per_class_subject, subjects, seed))


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("path")
    p.add_argument("--per-class", type=int, default=2, help="windows per class and subject")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(make_synthetic_archive(a.path, a.per_class, seed=a.seed))
