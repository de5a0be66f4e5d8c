"""Choosing the number of epochs from a held-out-subject history (``validated`` protocol).

A rule reads the per-epoch validation loss and accuracy of a run trained on part of the
training subjects and names the epoch count for the refit on all of them. Which rule to use
was itself chosen on training subjects only (``benchmarks/selection.py``, BENCHMARKS.md).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

import numpy as np
import pandas as pd

Rule = Literal["last", "min_val_loss", "max_val_accuracy", "smoothed_val_accuracy"]
RULES: Final[tuple[str, ...]] = get_args(Rule)
SMOOTHING: Final = 5  # epochs in the centred moving average of ``smoothed_val_accuracy``


def smoothed(values: np.ndarray, window: int = SMOOTHING) -> np.ndarray:
    """Centred moving average that shrinks its window at the ends (no padding bias)."""
    series = pd.Series(values, dtype=float)
    return series.rolling(window, center=True, min_periods=1).mean().to_numpy()


def select_epoch(val_loss: np.ndarray, val_accuracy: np.ndarray, rule: str) -> int:
    """The 1-based epoch a rule keeps; ties go to the earliest epoch."""
    loss, acc = np.asarray(val_loss, float), np.asarray(val_accuracy, float)
    if len(loss) == 0 or len(loss) != len(acc):
        raise ValueError("need one validation loss and accuracy per epoch")
    if rule == "last":
        return len(loss)
    if rule == "min_val_loss":
        return int(np.nanargmin(loss)) + 1
    if rule == "max_val_accuracy":
        return int(np.nanargmax(acc)) + 1
    if rule == "smoothed_val_accuracy":
        return int(np.nanargmax(smoothed(acc))) + 1
    raise ValueError(f"unknown selection rule {rule!r}; rules: {', '.join(RULES)}")
