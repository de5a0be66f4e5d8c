"""The averaging study's leave-one-fold-out scoring: a rule chooses on two folds' mean curves
(with the protocol's own ``choose``) and is scored on the third fold, at what it chose."""

from __future__ import annotations

import math

import pytest

from benchmarks.averaging import choose_on, leave_one_fold_out, summarize, wide


def _fold(fold: int, k1: list[float], k8: list[float]) -> dict[str, object]:
    return {"architecture": "x", "seed": 0, "fold": fold, "k1": k1, "k8": k8}


FOLDS = [
    # own weights peak early on folds 1-2 and late on fold 3; the averaged ones rise on all
    _fold(1, [0.95, 0.95, 0.80, 0.80, 0.80], [0.80, 0.82, 0.86, 0.90, 0.92]),
    _fold(2, [0.95, 0.95, 0.80, 0.80, 0.80], [0.80, 0.82, 0.86, 0.90, 0.92]),
    _fold(3, [0.70, 0.70, 0.70, 0.90, 0.99], [0.80, 0.82, 0.86, 0.90, 0.94]),
]


def test_rules_choose_on_the_other_folds_and_score_on_the_held_out_one() -> None:
    # the recipe's epochs with the mean of the last 8 epochs' weights: nothing chosen
    fixed, picks = leave_one_fold_out(FOLDS, "fixed", 8)
    assert fixed == pytest.approx((0.92 + 0.92 + 0.94) / 3) and picks == ["k8@5"] * 3
    # smoothed own-weights curves: folds 2+3 and 1+3 peak at epoch 5 (0.832), folds 1+2 at
    # epoch 1 (0.90); each choice is scored on the fold left out: 0.80, 0.80, then 0.70
    own, picks = leave_one_fold_out(FOLDS, "smoothed_val_accuracy", 1)
    assert picks == ["k1@5", "k1@5", "k1@1"]
    assert own == pytest.approx((0.80 + 0.80 + 0.70) / 3)
    averaged, picks = leave_one_fold_out(FOLDS, "smoothed_averaged_accuracy", 8)
    assert picks == ["k8@5"] * 3 and averaged == pytest.approx(fixed)
    assert choose_on(FOLDS[:2], "last", 1) == ("k1", 5)
    # folds 1+2: the own weights' smoothed peak (0.90) beats the averaged one's (0.893)
    assert choose_on(FOLDS[:2], "smoothed_any", 8) == ("k1", 1)
    table = summarize(FOLDS, (8,))
    assert set(table["folds"]) == {3}
    assert wide(table).loc[("fixed", 8), "x"] == pytest.approx(100 * fixed, abs=0.01)


def test_a_run_with_missing_folds_is_left_out() -> None:
    score, picks = leave_one_fold_out(FOLDS[:2], "fixed", 8)
    assert picks == [] and math.isnan(score)  # nothing to score yet
