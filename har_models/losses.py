"""Training objectives and output probabilities, by the name a recipe gives them.

- ``cross_entropy``: softmax + categorical cross-entropy on logits (every Keras port that
  ends in a softmax layer; the same objective, computed stably).
- ``keras_sigmoid``: Keras' ``categorical_crossentropy`` applied to **sigmoid** outputs, as
  the HAR_LSTM notebook does: Keras divides the outputs by their sum, clips them to
  [eps, 1 - eps] with eps = 1e-7, and takes ``-log`` of the true class's share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

import torch
from torch.nn import functional as F

Loss = Literal["cross_entropy", "keras_sigmoid"]
KERAS_EPSILON: Final = 1e-7


def keras_sigmoid_probabilities(logits: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits)
    return (p / p.sum(-1, keepdim=True)).clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)


def keras_sigmoid_loss(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Keras ``categorical_crossentropy(one_hot(target), sigmoid(logits))``."""
    p = keras_sigmoid_probabilities(logits)
    return F.nll_loss(p.log(), target, reduction=reduction)


LOSSES: Final[dict[str, Callable[..., torch.Tensor]]] = {
    "cross_entropy": F.cross_entropy,
    "keras_sigmoid": keras_sigmoid_loss,
}
PROBABILITIES: Final[dict[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "cross_entropy": lambda z: torch.softmax(z, -1),
    "keras_sigmoid": lambda z: (lambda p: p / p.sum(-1, keepdim=True))(torch.sigmoid(z)),
}


def loss_function(name: str) -> Callable[..., torch.Tensor]:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; losses: {', '.join(LOSSES)}") from None
