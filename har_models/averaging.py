"""The mean of the weights of a run's last epochs, which the ``validated`` protocol keeps.

Why: from one epoch to the next the weights of these ports move enough to change held-out
accuracy by a point or more; the uniform mean of the last few epochs' weights (stochastic
weight averaging over a trailing window; Izmailov et al., 2018) sits between those
oscillations. That it helps was measured on held-out training subjects before it was adopted
(BENCHMARKS.md, "Averaging the last epochs' weights"). A sliding window is kept rather than
``torch.optim.swa_utils.AveragedModel``'s running mean because selection scores the window
ending at every epoch, not one from a fixed start.

Only parameters are averaged; buffers (the input standardization's statistics) are the last
epoch's. A model with BatchNorm would need its running statistics recomputed for the mean
weights (``torch.optim.swa_utils.update_bn``); no registered architecture has one, and
:class:`TrailingMean` refuses such a model rather than average its statistics.
"""

from __future__ import annotations

import copy
import time
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
        self.parameters: set[str] = set()
        self.seconds: list[float] = []  # per epoch, what the callback cost (for the history)

    def __call__(self, report: EpochReport) -> None:
        start = time.perf_counter()
        self.add(report.model)
        self.seconds.append(time.perf_counter() - start)

    def add(self, model: nn.Module) -> None:
        if not self.states and has_batch_norm(model):
            raise TypeError(
                "averaging the weights of a model with BatchNorm needs its statistics "
                "recomputed (torch.optim.swa_utils.update_bn)"
            )
        self.parameters = {name for name, _ in model.named_parameters()}
        self.states.append({k: v.detach().clone() for k, v in model.state_dict().items()})

    def mean(self, last: int | None = None) -> dict[str, torch.Tensor]:
        """A state dict: each parameter the uniform mean over the ``last`` most recent kept
        epochs (default: the whole window; fewer when fewer have run), each buffer as of the
        last epoch."""
        if not self.states:
            raise ValueError("no epoch has been added yet")
        if last is not None and last < 1:
            raise ValueError(f"average over at least 1 epoch, got {last}")
        states = list(self.states)[-(last or len(self.states)) :]
        return {
            name: torch.stack([s[name] for s in states]).mean(0)
            if name in self.parameters
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
        start = time.perf_counter()
        self.add(report.model)
        if self._scratch is None:  # the held-out windows go to the model's device once
            dev = model_device(report.model)
            x, y = as_tensors(self.x_val, self.y_val, dev)
            self._scratch = (copy.deepcopy(report.model), x, y)
        model, x, y = self._scratch
        self.load_into(model)
        self.accuracy.append(held_out_accuracy(model, x, y))
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)
        self.seconds.append(time.perf_counter() - start)


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


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
