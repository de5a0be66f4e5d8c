"""Classification metrics of one evaluation, computed by scikit-learn."""

from __future__ import annotations

from dataclasses import dataclass

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


def score(y_true: np.ndarray, y_pred: np.ndarray) -> Scores:
    """All six classes are always reported (zero where a class is never predicted)."""
    labels = np.arange(N_CLASSES)
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
    )
