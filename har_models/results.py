"""The record of one training run: the contract between training (writer) and reports (reader).

``runs/<study-id>/metrics.parquet`` holds one row per run with exactly these fields;
``runs/<study-id>/history/<run_id>.parquet`` holds the per-epoch history of that run;
``runs/<study-id>/checkpoints/<run_id>.pt`` the checkpoint, and
``runs/<study-id>/records/<run_id>.json`` the run's own record (so a run trained on another
machine reports back through the shared data home, not through Prefect's result storage).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd

PROTOCOLS = ("published", "validated")
HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


@dataclass
class RunRecord:
    """Everything a comparison needs about one (architecture, repeat) run."""

    study_id: str
    run_id: str  # f"{architecture}-r{repeat:02d}"
    architecture: str
    repeat: int
    seed: int
    protocol: str
    status: str = "completed"  # "completed" | "failed"
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
    epochs: int = 0  # epochs trained
    best_epoch: int = 0  # epoch whose weights were evaluated (1-based)
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


RECORD_FIELDS = tuple(f.name for f in fields(RunRecord))


def run_id(architecture: str, repeat: int) -> str:
    return f"{architecture}-r{repeat:02d}"


def atomic_write_parquet(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write to a temp name in the same folder, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def records_frame(records: list[RunRecord]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in records], columns=list(RECORD_FIELDS))


def write_metrics(records: list[RunRecord], study_dir: str | os.PathLike[str]) -> Path:
    """Write ``metrics.parquet`` for a study (sorted by architecture, repeat)."""
    df = records_frame(records).sort_values(["architecture", "repeat"], kind="stable")
    return atomic_write_parquet(df, Path(study_dir) / "metrics.parquet")


def read_metrics(study_dir: str | os.PathLike[str]) -> pd.DataFrame:
    path = Path(study_dir) / "metrics.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no metrics table at {path}: has the study been trained?")
    return pd.read_parquet(path)


def record_path(study_dir: str | os.PathLike[str], rid: str) -> Path:
    return Path(study_dir) / "records" / f"{rid}.json"


def save_record(record: RunRecord, study_dir: str | os.PathLike[str]) -> Path:
    """Write one run's record as JSON, atomically (temp name, then rename)."""
    path = record_path(study_dir, record.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(record)))
    os.replace(tmp, path)
    return path


def load_record(study_dir: str | os.PathLike[str], rid: str) -> RunRecord:
    path = record_path(study_dir, rid)
    if not path.exists():
        raise FileNotFoundError(f"no record of run {rid} at {path}")
    return RunRecord(**json.loads(path.read_text()))


def load_records(study_dir: str | os.PathLike[str]) -> list[RunRecord]:
    """Every run record saved in a study folder, whichever process or worker wrote it."""
    paths = sorted((Path(study_dir) / "records").glob("*.json"))
    return [RunRecord(**json.loads(path.read_text())) for path in paths]
