"""Helper for the training tests: Parquet tensors written directly from synthetic windows
(no dependency on the ingest flow)."""

from __future__ import annotations

from pathlib import Path

from har_data.layout import DataHome
from har_data.manifest import make_manifest, write_manifest
from har_data.synthetic import DEFAULT_SUBJECTS, make_windows
from har_data.tensors import split_table, write_split
from har_models.run import RunParams, resolve_training_data

SYNTHETIC_SHA256 = "0" * 63 + "5"


def write_synthetic_tensors(
    root: Path,
    n_per_class_subject: int = 8,
    seed: int = 0,
    subjects: dict[str, tuple[int, ...]] | None = None,
) -> DataHome:
    """A data home with ``tensors/{train,test}.parquet`` (4 train, 2 test subjects) and their
    manifest, as ingest publishes them (custom profile)."""
    home = DataHome.resolve(root)
    home.tensors.mkdir(parents=True, exist_ok=True)
    subjects = subjects or DEFAULT_SUBJECTS
    rows = {}
    for i, split in enumerate(("train", "test")):
        x, labels, ids = make_windows(n_per_class_subject, subjects[split], seed + i)
        table = split_table(x, labels - 1, ids, metadata={"archive_sha256": SYNTHETIC_SHA256})
        write_split(table, home.split_path(split))
        rows[split] = len(x)
    paths = {split: home.split_path(split) for split in rows}
    write_manifest(home, make_manifest(paths, SYNTHETIC_SHA256, "synthetic", "custom", rows))
    return home


def run_params(home: DataHome, **changes: object) -> RunParams:
    """Parameters of one quick CPU run on ``home`` (1 epoch of ``lstm``, study ``s``)."""
    _, sha = resolve_training_data(str(home.root))
    base: dict[str, object] = {
        "study_id": "s",
        "architecture": "lstm",
        "repeat": 0,
        "seed": 0,
        "protocol": "published",
        "data_home": str(home.root),
        "data_sha256": sha,
        "epochs": 1,
        "device": "cpu",
    }
    return RunParams(**{**base, **changes})
