"""A study written by hand, with the real results layout: for tests and for previewing reports.

The confusion matrices are built from the test split's class counts with the errors a HAR model
really makes (mostly SITTING/STANDING and the walking classes), so every metric derived from them
is consistent: ``accuracy`` is exactly the matrix's trace over its total.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import TypedDict

import numpy as np
import pandas as pd

from data_contracts.dataset import ACTIVITIES, OFFICIAL_LABEL_COUNTS, OFFICIAL_SUBJECTS
from har_data.layout import StudyLayout
from har_models.protocol import AVERAGED_EPOCHS
from har_models.registry import get_spec
from har_models.results import (
    HISTORY_COLUMNS,
    RunRecord,
    atomic_write_parquet,
    rebuild_metrics,
    run_id,
    save_record,
)


class SampleScores(TypedDict):
    """The score fields of a :class:`RunRecord`, as :func:`scores` derives them."""

    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class_precision: list[float]
    per_class_recall: list[float]
    per_class_f1: list[float]


class SampleSubjects(TypedDict):
    """The per-subject fields of a :class:`RunRecord`, as :func:`per_subject_for` spreads them."""

    test_subjects: list[int]
    per_subject_accuracy: list[float]


# (true, predicted) activities that take the errors, with their share.
_ERRORS = (
    ("SITTING", "STANDING", 0.35),
    ("STANDING", "SITTING", 0.25),
    ("WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", 0.1),
    ("WALKING_DOWNSTAIRS", "WALKING", 0.1),
    ("WALKING", "WALKING_UPSTAIRS", 0.1),
    ("LAYING", "SITTING", 0.1),
)


def confusion_for(accuracy: float, rng: np.random.Generator) -> np.ndarray:
    """A test-split confusion matrix with ``round((1 - accuracy) * n)`` errors."""
    support = np.array(OFFICIAL_LABEL_COUNTS["test"])
    cm = np.diag(support).astype(int)
    errors = round((1 - accuracy) * support.sum())
    cells = [(ACTIVITIES.index(t), ACTIVITIES.index(p)) for t, p, _ in _ERRORS]
    shares = np.array([s for _, _, s in _ERRORS])
    for (i, j), k in zip(cells, rng.multinomial(errors, shares / shares.sum()), strict=True):
        k = min(int(k), int(cm[i, i]))
        cm[i, i] -= k
        cm[i, j] += k
    return cm


def per_subject_for(cm: np.ndarray, rng: np.random.Generator) -> SampleSubjects:
    """The matrix's errors spread over the test subjects, each given an equal share of the
    windows (so the mean of the subjects' accuracies is the accuracy); subject 10 takes a
    triple share of the errors, as it does in real runs."""
    subjects = OFFICIAL_SUBJECTS["test"]
    weights = np.array([3.0 if s == 10 else 1.0 for s in subjects])
    errors = rng.multinomial(int(cm.sum() - np.trace(cm)), weights / weights.sum())
    size = cm.sum() / len(subjects)
    return {
        "test_subjects": list(subjects),
        "per_subject_accuracy": [float(1 - e / size) for e in errors],
    }


def scores(cm: np.ndarray) -> SampleScores:
    """Accuracy, macro/weighted F1 and per-class precision/recall/F1 of a confusion matrix."""
    diag = np.diag(cm).astype(float)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(diag, predicted, out=np.zeros_like(diag), where=predicted > 0)
    recall = np.divide(diag, support, out=np.zeros_like(diag), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(diag), where=denom > 0)
    return {
        "accuracy": float(diag.sum() / cm.sum()),
        "macro_f1": float(f1.mean()),
        "weighted_f1": float((f1 * support).sum() / support.sum()),
        "per_class_precision": precision.tolist(),
        "per_class_recall": recall.tolist(),
        "per_class_f1": f1.tolist(),
    }


def history_for(accuracy: float, epochs: int, validated: bool, rng: np.random.Generator):
    """A plausible per-epoch history ending near ``accuracy``."""
    e = np.arange(1, epochs + 1)
    train_acc = np.clip(accuracy + 0.04 - 0.5 * np.exp(-e / 2) + rng.normal(0, 0.005, epochs), 0, 1)
    train_loss = 1.6 * np.exp(-e / 2.5) + 0.1 + rng.normal(0, 0.01, epochs)
    nan = np.full(epochs, np.nan)
    history = pd.DataFrame(
        {
            "epoch": e,
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "val_loss": train_loss + 0.15 if validated else nan,
            "val_accuracy": train_acc - 0.03 if validated else nan,
            "seconds": np.full(epochs, 2.0),
        },
        columns=list(HISTORY_COLUMNS),
    )
    if validated:  # the held-out accuracy of the mean of the last epochs' weights
        history["averaged_val_accuracy"] = history["val_accuracy"].rolling(3, 1).mean() + 0.005
    return history


def make_sample_study(
    study_dir: str | os.PathLike[str],
    accuracies: dict[str, list[float]],
    failed: dict[str, list[int]] | None = None,
    protocol: str = "published",
    epochs: int = 5,
    data_sha256: str = "0" * 64,
    seed: int = 0,
    data_profile: str = "official",
    validation_subjects: tuple[int, ...] = (7, 14, 21, 28),
) -> list[RunRecord]:
    """Write records, histories and ``metrics.parquet`` for the given accuracies (fractions)
    per architecture; the repeats listed in ``failed`` are recorded as failed runs instead.
    The runs look trained on the official data (``data_profile``) and, when validated, to
    hold out ``validation_subjects``."""
    rng = np.random.default_rng(seed)
    study = StudyLayout.of(study_dir)
    root = study.root
    records = []
    for arch, accs in accuracies.items():
        for repeat, acc in enumerate(accs):
            rid = run_id(arch, repeat)
            base = RunRecord(
                study_id=root.name, run_id=rid, architecture=arch, repeat=repeat,
                seed=repeat, protocol=protocol, data_sha256=data_sha256, version="sample",
                recipe=json.dumps(get_spec(arch).recipe.as_dict(), sort_keys=True),
                overrides="{}",
                data_profile=data_profile,
            )  # fmt: skip
            if repeat in (failed or {}).get(arch, []):
                records.append(replace(base, status="failed", error="RuntimeError: boom"))
                continue
            cm = confusion_for(acc, rng)
            history = history_for(acc, epochs, protocol == "validated", rng)
            atomic_write_parquet(history, study.history(rid))
            records.append(
                replace(
                    base,
                    **scores(cm),
                    **per_subject_for(cm, rng),
                    confusion=cm.tolist(),
                    epochs=epochs,
                    best_epoch=epochs,
                    averaged_epochs=min(AVERAGED_EPOCHS, epochs) if protocol == "validated" else 1,
                    wall_time_s=2.0 * epochs,
                    seconds_per_epoch=2.0,
                    n_params=50_000 + 1000 * len(arch),
                    latency_ms_batch1=0.5,
                    latency_ms_batch256=0.01,
                    device="cpu",
                    history_path=study.history_rel(rid),
                    validation_subjects=list(validation_subjects)
                    if protocol == "validated"
                    else [],
                )
            )
    for record in records:
        save_record(record, study)
    rebuild_metrics(study)
    return records
