"""Classification metrics of one evaluation, computed by scikit-learn."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from data_contracts.dataset import N_CLASSES


@dataclass(frozen=True)
class Scores:
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class_precision: list[float]  # ACTIVITIES order
    per_class_recall: list[float]
    per_class_f1: list[float]
    confusion: list[list[int]]  # rows true, columns predicted
    subjects: list[int] = field(default_factory=list)  # ascending; empty when not given
    per_subject_accuracy: list[float] = field(default_factory=list)  # in ``subjects`` order


def per_subject_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, subjects: np.ndarray
) -> tuple[list[int], list[float]]:
    """Accuracy of each subject's windows: the split is by person, so this shows whom a model
    fails to generalise to (one hard subject can cost a point of overall accuracy)."""
    y_true, y_pred, subjects = (np.asarray(a).ravel() for a in (y_true, y_pred, subjects))
    if not len(y_true) == len(y_pred) == len(subjects):
        raise ValueError(
            f"subjects: {len(subjects)} entries for {len(y_true)} labels and "
            f"{len(y_pred)} predictions"
        )
    ids = np.unique(subjects)
    accs = [float(accuracy_score(y_true[subjects == s], y_pred[subjects == s])) for s in ids]
    return [int(s) for s in ids], accs


def score(y_true: np.ndarray, y_pred: np.ndarray, subjects: np.ndarray | None = None) -> Scores:
    """All six classes are always reported (zero where a class is never predicted); with
    ``subjects`` (one id per window) the accuracy of each subject too."""
    labels = np.arange(N_CLASSES)
    ids, per_subject = (
        per_subject_accuracy(y_true, y_pred, subjects) if subjects is not None else ([], [])
    )
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    return Scores(
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        weighted_f1=float(
            f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)
        ),
        per_class_precision=[float(v) for v in p],
        per_class_recall=[float(v) for v in r],
        per_class_f1=[float(v) for v in f],
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        subjects=ids,
        per_subject_accuracy=per_subject,
    )
