"""The selection study's cross-fitting: a rule is scored on windows it did not choose on."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.selection import cross_fitted, pooled_cross_fitted


def _record(acc_a: list[float], acc_b: list[float]) -> dict[str, object]:
    return {
        "acc_a": acc_a,
        "acc_b": acc_b,
        "loss_a": [1.0 - a for a in acc_a],
        "loss_b": [1.0 - b for b in acc_b],
    }


def test_mean_of_curves_outvotes_one_noisy_curve() -> None:
    """Each seed's curve on A has one noisy early peak of its own, at a different epoch; their
    mean peaks where every B curve does (epoch 5), so choosing on the mean scores higher."""
    b = [0.80, 0.82, 0.84, 0.86, 0.90]
    records = [
        _record([0.95, 0.80, 0.84, 0.86, 0.88], b),
        _record([0.80, 0.95, 0.84, 0.86, 0.88], b),
        _record([0.80, 0.82, 0.95, 0.86, 0.88], b),
    ]
    # one curve: A picks epochs 1, 2, 3 (B there: 0.80, 0.82, 0.84); B picks 5 (A there: 0.88)
    one = np.mean([cross_fitted(r, "max_val_accuracy", 5)[0] for r in records])
    assert one == pytest.approx(0.85)
    # the mean of the A curves peaks at epoch 5 (0.88 > 0.877): B scores 0.90 there
    pooled, epoch = pooled_cross_fitted(records, "max_val_accuracy", 5)
    assert pooled == pytest.approx((0.90 + 0.88) / 2) and epoch == 5
