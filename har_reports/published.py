"""The published UCI HAR figures our ports are measured against, with the protocol behind each.

They come from the Keras tutorials the architectures are ported from; all were reached with a
fixed number of epochs and evaluated on the test split (the ``published`` protocol), so they are
not comparable with ``validated`` studies without that caveat.
"""

from __future__ import annotations

from dataclasses import dataclass

# Names a reader sees; architectures not listed here are shown by their registry name.
DISPLAY_NAMES: dict[str, str] = {
    "lstm": "LSTM",
    "cnn_lstm": "CNN-LSTM",
    "convlstm": "ConvLSTM",
    "stacked_lstm": "Stacked LSTM",
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


_KERAS_TUTORIAL = "Keras tutorial (Brownlee, 'LSTMs for Human Activity Recognition')"
_FIXED_EPOCHS = "published: {epochs} fixed epochs, batch {batch}, evaluated once on test"

PUBLISHED: dict[str, PublishedResult] = {
    "lstm": PublishedResult(
        "lstm", 89.7, 1.4, 10, _FIXED_EPOCHS.format(epochs=15, batch=64), _KERAS_TUTORIAL
    ),
    "cnn_lstm": PublishedResult(
        "cnn_lstm", 90.7, 1.1, 10, _FIXED_EPOCHS.format(epochs=25, batch=64), _KERAS_TUTORIAL
    ),
    "convlstm": PublishedResult(
        "convlstm", 90.8, 0.9, 10, _FIXED_EPOCHS.format(epochs=25, batch=64), _KERAS_TUTORIAL
    ),
    "stacked_lstm": PublishedResult(
        "stacked_lstm",
        91.65,
        None,
        1,
        _FIXED_EPOCHS.format(epochs=300, batch=1500) + " (single run)",
        "guillaume-chevalier/LSTM-Human-Activity-Recognition (TensorFlow)",
    ),
}
