"""The record of one training run: the contract between training (writer) and reports (reader).

Each run writes ``records/<run_id>.json`` (plain JSON, read back field by field: nothing on
disk runs code), its history and its checkpoint into the study folder
(:class:`har_data.layout.StudyLayout`). ``metrics.parquet`` is always rebuilt from every
record in the folder under the study's lock, so concurrent or partial reruns never drop rows.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd
from filelock import FileLock

from har_data.atomic import atomic_path, write_text
from har_data.layout import StudyLayout
from har_models.study import run_id as run_id  # re-exported: records are keyed by it

HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")
# A run's history file: HISTORY_COLUMNS plus ``phase``: "train" (the model that was scored),
# or under the ``validated`` protocol "select" (held-out subjects scored every epoch; a column
# ``fold`` numbers the folds of subjects from 1) and "refit" (the scored model, trained on
# every training subject for the chosen epochs; ``fold`` 0). The "select" rows also carry
# ``averaged_val_accuracy``: the held-out accuracy of the mean of the last
# ``AVERAGED_EPOCHS`` epochs' weights (har_models.averaging).
PHASES = ("train", "select", "refit")


@dataclass
class RunRecord:
    """Everything a comparison needs about one (architecture, repeat) run."""

    study_id: str
    run_id: str  # f"{architecture}-r{repeat:02d}"
    architecture: str
    repeat: int
    seed: int
    protocol: str
    status: str = "completed"  # "completed" | "failed" | "interrupted"
    error: str = ""
    accuracy: float = float("nan")
    macro_f1: float = float("nan")
    weighted_f1: float = float("nan")
    per_class_precision: list[float] = field(default_factory=list)  # ACTIVITIES order
    per_class_recall: list[float] = field(default_factory=list)
    per_class_f1: list[float] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)  # rows true, cols predicted
    test_subjects: list[int] = field(default_factory=list)  # ascending
    per_subject_accuracy: list[float] = field(default_factory=list)  # test_subjects order
    epochs: int = 0  # epochs trained (for the final model)
    best_epoch: int = 0  # epoch whose weights were evaluated (1-based)
    # validated: the evaluated weights are the mean of the last this many epochs' (up to
    # best_epoch); 1, the epoch's own weights
    averaged_epochs: int = 1
    wall_time_s: float = float("nan")
    seconds_per_epoch: float = float("nan")
    n_params: int = 0
    latency_ms_batch1: float = float("nan")  # per window
    latency_ms_batch256: float = float("nan")  # per window
    device: str = ""
    data_sha256: str = ""
    version: str = ""
    history_path: str = ""  # relative to the study dir
    checkpoint_path: str = ""  # relative to the study dir
    cache_key: str = ""  # the inputs that produced this record (training cache)
    checkpoint_sha256: str = ""  # the checkpoint file this record describes
    # Provenance, for the report (JSON text keeps metrics.parquet's columns flat and typed):
    recipe: str = ""  # JSON of the recipe the run trained with
    overrides: str = ""  # JSON of what the study changed in the registry's recipe ({} none)
    torch_version: str = ""
    hardware: str = ""  # CPU model and cores, GPU model
    started_at: str = ""  # ISO 8601 UTC, when training started and ended
    finished_at: str = ""
    history_sha256: str = ""  # the history file this record describes
    validation_subjects: list[int] = field(default_factory=list)  # validated: held-out subjects
    data_profile: str = ""  # "official" when ingest checked the official counts, else "custom"


RECORD_FIELDS = tuple(f.name for f in fields(RunRecord))


class RecordError(ValueError):
    """A record file that is not a readable run record."""


def atomic_write_parquet(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def records_frame(records: list[RunRecord]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in records], columns=list(RECORD_FIELDS))


def read_metrics(study: StudyLayout | str | os.PathLike[str]) -> pd.DataFrame:
    study = StudyLayout.of(study)
    if not study.metrics.exists():
        raise FileNotFoundError(f"no metrics table at {study.metrics}: has the study been trained?")
    return pd.read_parquet(study.metrics)


def save_record(record: RunRecord, study: StudyLayout | str | os.PathLike[str]) -> Path:
    """Write one run's record as JSON, atomically."""
    study = StudyLayout.of(study)
    return write_text(study.record(record.run_id), json.dumps(asdict(record)))


def parse_record(text: str | bytes, source: str | os.PathLike[str]) -> RunRecord:
    """A record from JSON, refusing anything that is not exactly a record's fields."""
    try:
        data = json.loads(text)
    except ValueError as e:  # not JSON, or not UTF-8
        raise RecordError(f"{source}: not a JSON run record ({e})") from None
    if not isinstance(data, dict) or not {"study_id", "run_id", "architecture"} <= set(data):
        raise RecordError(f"{source}: not a run record")
    unknown = set(data) - set(RECORD_FIELDS)
    if unknown:
        raise RecordError(f"{source}: unknown record fields {sorted(unknown)}")
    return RunRecord(**data)


def load_record(study: StudyLayout | str | os.PathLike[str], rid: str) -> RunRecord:
    study = StudyLayout.of(study)
    path = study.record(rid)
    if not path.exists():
        raise FileNotFoundError(f"no record of run {rid} at {path}")
    return parse_record(path.read_bytes(), path)


def find_record(study: StudyLayout | str | os.PathLike[str], rid: str) -> RunRecord | None:
    """The run's record, or None when it is absent or unreadable."""
    try:
        return load_record(study, rid)
    except (RecordError, TypeError, OSError):
        return None


def load_records(study: StudyLayout | str | os.PathLike[str]) -> list[RunRecord]:
    """Every run record saved in a study folder, whichever process or worker wrote it."""
    study = StudyLayout.of(study)
    return [parse_record(p.read_bytes(), p) for p in sorted(study.records.glob("*.json"))]


def read_records(
    study: StudyLayout | str | os.PathLike[str],
) -> tuple[list[RunRecord], list[str]]:
    """Every readable record in a study folder, and one line per file that is not a record
    (corrupt, or planted): those are left out, not allowed to stop the study; the run they
    claim to be is not reused (:func:`find_record`) and its next training replaces them."""
    study = StudyLayout.of(study)
    records, problems = [], []
    for path in sorted(study.records.glob("*.json")):
        try:
            records.append(parse_record(path.read_bytes(), path))
        except (RecordError, TypeError, OSError) as e:
            problems.append(f"{path}: left out of the table ({e})")
    return records, problems


def rebuild_metrics(study: StudyLayout | str | os.PathLike[str]) -> Path:
    """Rewrite ``metrics.parquet`` from every readable record in the folder, under the
    study's lock."""
    study = StudyLayout.of(study)
    study.root.mkdir(parents=True, exist_ok=True)
    with FileLock(study.lock):
        records, _ = read_records(study)
        df = records_frame(records).sort_values(["architecture", "repeat"])
        return atomic_write_parquet(df, study.metrics)
