"""The mean of the weights of a run's last epochs, which the ``validated`` protocol may keep.

Why: from one epoch to the next the weights of these ports move enough to change held-out
accuracy by a point or more; the uniform mean of the last few epochs' weights (stochastic
weight averaging over a trailing window; Izmailov et al., 2018) sits between those
oscillations. Whether it helps is not assumed: the ``validated`` protocol scores both on its
held-out subjects and keeps what they prefer (BENCHMARKS.md, "Averaging the last epochs'
weights"). A sliding window is kept rather than ``torch.optim.swa_utils.AveragedModel``'s
running mean because selection scores the window ending at every epoch, not one from a
fixed start.
"""

from __future__ import annotations

import copy
from collections import deque

import numpy as np
import torch
from torch import nn

from har_models.training import EpochReport, as_tensors, model_device


class TrailingMean:
    """The last ``window`` epochs' weights of one model (an ``on_epoch`` callback)."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError(f"an averaging window is at least 1 epoch, got {window}")
        self.states: deque[dict[str, torch.Tensor]] = deque(maxlen=window)

    def __call__(self, report: EpochReport) -> None:
        self.add(report.model)

    def add(self, model: nn.Module) -> None:
        self.states.append({k: v.detach().clone() for k, v in model.state_dict().items()})

    def mean(self, last: int | None = None) -> dict[str, torch.Tensor]:
        """The uniform mean of the kept epochs' floating-point tensors (the others, as of
        the last epoch): of the ``last`` most recent ones (default: the whole window), fewer
        when fewer have run."""
        if not self.states:
            raise ValueError("no epoch has been added yet")
        states = list(self.states)[-(last or len(self.states)) :]
        return {
            name: torch.stack([s[name] for s in states]).mean(0)
            if value.is_floating_point()
            else value
            for name, value in states[-1].items()
        }

    def load_into(self, model: nn.Module) -> None:
        model.load_state_dict(self.mean())


class TrailingMeanScores(TrailingMean):
    """A :class:`TrailingMean` that also scores each epoch's mean weights on held-out windows:
    the curve the ``validated`` protocol reads beside the epoch's own weights."""

    def __init__(self, window: int, x_val: np.ndarray, y_val: np.ndarray) -> None:
        super().__init__(window)
        self.x_val, self.y_val = x_val, y_val
        self.accuracy: list[float] = []
        self._scratch: tuple[nn.Module, torch.Tensor, torch.Tensor] | None = None

    def __call__(self, report: EpochReport) -> None:
        self.add(report.model)
        if self._scratch is None:  # the held-out windows go to the model's device once
            dev = model_device(report.model)
            x, y = as_tensors(self.x_val, self.y_val, dev)
            self._scratch = (copy.deepcopy(report.model), x, y)
        model, x, y = self._scratch
        self.load_into(model)
        self.accuracy.append(held_out_accuracy(model, x, y))


@torch.inference_mode()
def held_out_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024
) -> float:
    model.eval()
    right = sum(
        int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
        for i in range(0, len(x), batch_size)
    )
    return right / max(len(x), 1)
