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

# ``validated``: the rule that picks the epoch count, and how far the selection run looks
# (a multiple of the recipe's epochs). Both chosen on training subjects only, never on test
# (benchmarks/selection.py, benchmarks/averaging.py; their tables and what did not help are
# in BENCHMARKS.md, "Choosing the epoch-selection rule" and "Averaging the last epochs'
# weights"): rules on validation loss lose to rules on accuracy; one curve per run is too
# noisy where the mean of the folds' curves is not; searching past the recipe's epochs gains
# nothing; keeping the mean of the last epochs' weights, its epoch chosen on that mean's own
# smoothed held-out accuracy, is the best rule that chooses, on every architecture measured.
# The selection runs go the whole search range: stopping them on validation loss (a recipe's
# ``patience``) cut the curves where loss, the worse signal, stopped improving.
SELECTION_RULE: Final = "smoothed_averaged_accuracy"
SELECTION_FACTOR: Final = 1.0
# The window of har_models.averaging: the selection scores, at every epoch, the mean of the
# last this many epochs' weights, and the refit keeps that mean.
AVERAGED_EPOCHS: Final = 8
SELECTION_FOLDS: Final = 3  # folds of whole training subjects, each held out once
VALIDATION_FRACTION: Final = 0.2  # of the training subjects: benchmarks' single held-out set

DESCRIPTIONS: Final[dict[str, str]] = {
    "published": "fixed epochs from the recipe on all training subjects, scored once on test",
    "validated": f"epochs chosen on held-out training subjects ({SELECTION_FOLDS} folds of "
    f"whole subjects, each held out once; the epoch where the smoothed held-out accuracy of "
    f"the mean of the last {AVERAGED_EPOCHS} epochs' weights, averaged over the folds, "
    "peaks), then a refit on all of them for that many epochs that keeps the mean of its "
    f"last {AVERAGED_EPOCHS} epochs' weights, scored once on test",
}


def check_protocol(protocol: str) -> Protocol:
    for known in PROTOCOLS:
        if protocol == known:
            return known
    raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
