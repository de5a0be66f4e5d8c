"""The evaluation protocols every result is labelled with: their names and what they mean.

- ``published``: the recipe's fixed number of epochs on the whole training split, then one
  evaluation on test; how the original tutorials reported their figures.
- ``validated``: what must be chosen (the number of epochs) is chosen on whole held-out
  training subjects (each in turn, in :data:`SELECTION_FOLDS` folds), then the model is refit
  on every training subject for that many epochs and keeps the mean of its last
  :data:`AVERAGED_EPOCHS` epochs' weights; the test split is only scored once at the end.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Protocol = Literal["published", "validated"]
PROTOCOLS: Final[tuple[Protocol, ...]] = get_args(Protocol)
DEFAULT_PROTOCOL: Final[Protocol] = "published"

# ``validated`` picks the epoch on held-out training subjects; on fewer than this many the
# choice is noisy, and the training log and the report warn.
MIN_VALIDATION_SUBJECTS: Final = 3

DESCRIPTIONS: Final[dict[str, str]] = {
    "published": "fixed epochs from the recipe on all training subjects, scored once on test",
    "validated": "epochs chosen on held-out training subjects (3 folds of whole subjects, "
    "their validation curves averaged), then a refit on all of them for that many epochs "
    "keeping the mean of the last epochs' weights, scored once on test",
}
# ``validated``: the rule that picks the epoch count, and how far the selection run looks
# (a multiple of the recipe's epochs). Both chosen on training subjects only
# (benchmarks/selection.py and benchmarks/averaging.py; BENCHMARKS.md "Choosing the
# epoch-selection rule" and "Averaging the last epochs' weights").
# Measured first (3 seeds x 3 architectures, cross-fitted halves of 8 held-out subjects):
# loss-based rules lose 1-3.5 points; looking past the recipe's epochs gains nothing; one
# curve per run (4 held-out subjects) is too noisy, the mean of three fold curves is not.
# Then (3 seeds x 3 architectures x the 3 folds, leave one fold out): the mean of the last 8
# epochs' weights, its epoch chosen on its own 5-epoch smoothed held-out accuracy, scored
# 90.30 % against 89.36 for the smoothed accuracy of each epoch's own weights (the rule
# before) and 88.82 for the recipe's epochs, the best choosing rule on every architecture.
# The selection runs go the whole search range: stopping them on validation loss (a recipe's
# ``patience``) cut the curves where loss, the worse signal, stopped improving.
SELECTION_RULE: Final = "smoothed_averaged_accuracy"
SELECTION_FACTOR: Final = 1.0
# The window of har_models.averaging: the selection also scores, at every epoch, the mean of
# the last this many epochs' weights, and the rule may keep that mean for the refit.
AVERAGED_EPOCHS: Final = 8
SELECTION_FOLDS: Final = 3  # folds of whole training subjects, each held out once
VALIDATION_FRACTION: Final = 0.2  # of the training subjects: benchmarks' single held-out set


def check_protocol(protocol: str) -> Protocol:
    for known in PROTOCOLS:
        if protocol == known:
            return known
    raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
