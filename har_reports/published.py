"""The published UCI HAR figures our ports are measured against, with the protocol behind each.

The one home of these figures (the report and the benchmarks read them here). They come from
the tutorials the architectures are ported from; all were reached with a fixed number of
epochs and evaluated on the test split (the ``published`` protocol), so they are not
comparable with ``validated`` studies without that caveat. The HAR_LSTM notebook went further:
it passed the test split to Keras as its validation data. A figure from a single run is one
draw from a spread like the one our repeats show.
"""

from __future__ import annotations

from dataclasses import dataclass

from har_models.registry import get_spec

# Names a reader sees; architectures not listed here are shown by their registry name.
DISPLAY_NAMES: dict[str, str] = {
    "lstm": "LSTM",
    "cnn_lstm": "CNN-LSTM",
    "convlstm": "ConvLSTM",
    "stacked_lstm": "Stacked LSTM",
    "lstm128": "LSTM(128) (notebook)",
    "lstm128_64": "LSTM(128)-LSTM(64) (notebook)",
    "minirocket": "MiniRocket",
}


def display_name(architecture: str) -> str:
    return DISPLAY_NAMES.get(architecture, architecture)


@dataclass(frozen=True)
class PublishedResult:
    """A published accuracy (percent) for one architecture and how it was obtained."""

    architecture: str
    mean: float
    std: float | None  # None for a single run
    repeats: int
    protocol: str
    source: str
    reproduction_target: float | None = (
        None  # agreed mean for a `published` study; None: mean - std
    )

    def target(self, protocol: str) -> float | None:
        """The mean a 10-repeat study of ours should reach: under ``published`` the agreed
        reproduction target; under ``validated`` the published mean less
        :data:`VALIDATED_MARGIN` (only against a published mean of several runs)."""
        if protocol == "validated":
            return self.mean - VALIDATED_MARGIN if self.repeats > 1 else None
        if self.reproduction_target is not None:
            return self.reproduction_target
        return self.mean - (self.std or 0.0)


# How far under the published mean an honest (``validated``) study may land (issue 13).
VALIDATED_MARGIN = 0.3


_KERAS_TUTORIAL = "Keras tutorial (Brownlee, 'LSTMs for Human Activity Recognition')"
_NOTEBOOK = "HAR_LSTM Keras notebook (2019)"


def _fixed_epochs(architecture: str, note: str = "") -> str:
    """The protocol text, from the recipe the port trains with (one home for the epochs)."""
    recipe = get_spec(architecture).recipe
    text = f"published: {recipe.epochs} fixed epochs, batch {recipe.batch_size}"
    return text + (note or ", evaluated once on test")


PUBLISHED: dict[str, PublishedResult] = {
    "lstm": PublishedResult("lstm", 89.7, 1.4, 10, _fixed_epochs("lstm"), _KERAS_TUTORIAL),
    "cnn_lstm": PublishedResult(
        "cnn_lstm", 90.7, 1.1, 10, _fixed_epochs("cnn_lstm"), _KERAS_TUTORIAL
    ),
    "convlstm": PublishedResult(
        "convlstm", 90.8, 0.9, 10, _fixed_epochs("convlstm"), _KERAS_TUTORIAL
    ),
    "stacked_lstm": PublishedResult(
        "stacked_lstm",
        91.65,
        None,
        1,
        _fixed_epochs("stacked_lstm", ", evaluated once on test (single run)"),
        "guillaume-chevalier/LSTM-Human-Activity-Recognition (TensorFlow)",
    ),
    "lstm128": PublishedResult(
        "lstm128",
        90.19,
        None,
        1,
        _fixed_epochs(
            "lstm128",
            " (single run, test split used as Keras' validation data; the notebook's own "
            "summary table claims 92.81 % for the same configuration)",
        ),
        _NOTEBOOK,
        reproduction_target=90.2,
    ),
    "lstm128_64": PublishedResult(
        "lstm128_64",
        92.16,
        None,
        1,
        _fixed_epochs("lstm128_64", " (single run, test split used as Keras' validation data)"),
        _NOTEBOOK,
        reproduction_target=90.7,  # the single run less the 1.5-point spread of our other ports
    ),
}
