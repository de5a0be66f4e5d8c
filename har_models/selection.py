"""Choosing the number of epochs from a held-out-subject history (``validated`` protocol).

A rule reads the per-epoch validation loss and accuracy of a run trained on part of the
training subjects and names the epoch count for the refit on all of them. Which rule to use
was itself chosen on training subjects only (``benchmarks/selection.py``, BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np
import pandas as pd

# rules read the curves of each epoch's own weights, and keep those weights
OwnWeightsRule = Literal["last", "min_val_loss", "max_val_accuracy", "smoothed_val_accuracy"]
OWN_WEIGHTS_RULES: Final[tuple[str, ...]] = get_args(OwnWeightsRule)
# ... and these also read the curve of the mean of the last epochs' weights
Rule = Literal[OwnWeightsRule, "smoothed_averaged_accuracy", "smoothed_any"]
RULES: Final[tuple[str, ...]] = get_args(Rule)
SMOOTHING: Final = 5  # epochs in the centred moving average of the ``smoothed_*`` rules


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
    raise ValueError(f"unknown selection rule {rule!r}; rules: {', '.join(OWN_WEIGHTS_RULES)}")


@dataclass(frozen=True)
class Choice:
    """What the ``validated`` refit does: train ``epochs`` epochs, then keep the mean of the
    last ``averaged_epochs`` epochs' weights (1: the last epoch's own weights). It names the
    window, which holds fewer epochs when ``epochs`` is smaller (the run's record says how
    many it held)."""

    epochs: int
    averaged_epochs: int = 1


def choose(curves: pd.DataFrame, rule: str, window: int) -> Choice:
    """The refit a rule picks from held-out curves, one row per epoch (from 1): ``val_loss``
    and ``val_accuracy`` of each epoch's own weights, ``averaged_val_accuracy`` of the mean
    of the last ``window`` epochs' weights. The rules on the own weights' curves keep them;
    ``smoothed_averaged_accuracy`` keeps the mean; ``smoothed_any`` keeps whichever of the
    two smoothed curves peaks higher (the own weights on a tie)."""
    loss, acc = curves["val_loss"].to_numpy(), curves["val_accuracy"].to_numpy()
    if rule in OWN_WEIGHTS_RULES:
        return Choice(select_epoch(loss, acc, rule))
    averaged = smoothed(curves["averaged_val_accuracy"].to_numpy())
    at_averaged = Choice(int(np.nanargmax(averaged)) + 1, window)
    if rule == "smoothed_averaged_accuracy":
        return at_averaged
    if rule == "smoothed_any":
        plain = smoothed(acc)
        if np.nanmax(averaged) > np.nanmax(plain):
            return at_averaged
        return Choice(int(np.nanargmax(plain)) + 1)
    raise ValueError(f"unknown selection rule {rule!r}; rules: {', '.join(RULES)}")
