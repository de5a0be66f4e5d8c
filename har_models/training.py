"""``fit`` and ``evaluate``: plain functions, seeded, with the whole data set on the device.

The tensors are moved to the device once and batches are index slices there, so an epoch
costs no host-to-device copies. Shuffling uses its own seeded generator, weights and
dropout the seeded global one: on CPU the same seed gives the same metrics. Selection
(``validated`` protocol) looks only at the validation set passed in, never at test.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import torch
from torch import nn

from har_models.classifier import HarClassifier
from har_models.device import device_name, resolve_device
from har_models.losses import loss_function
from har_models.metrics import Scores, score
from har_models.registry import Recipe, build_model, get_spec
from har_models.results import HISTORY_COLUMNS
from har_models.stop import check_stop


@dataclass(frozen=True)
class EpochReport:
    """What :func:`fit` tells its ``on_epoch`` callback after each epoch."""

    epoch: int
    epochs: int  # planned
    row: dict[str, float]  # the history row (HISTORY_COLUMNS)
    model: nn.Module
    val_predictions: torch.Tensor | None  # class indices on the validation windows


EpochCallback = Callable[[EpochReport], None]


def chain_callbacks(*callbacks: EpochCallback | None) -> EpochCallback:
    """One ``on_epoch`` callback that calls each given one in turn."""
    given = [c for c in callbacks if c is not None]

    def each(report: EpochReport) -> None:
        for callback in given:
            callback(report)

    return each


@runtime_checkable
class ClosedFormNet(Protocol):
    """A network fitted in one pass (``closed_form = True``): random features + ridge."""

    closed_form: bool

    def fit(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> dict[str, Any]: ...


@dataclass
class FitResult:
    model: HarClassifier  # on the training device, eval mode, best weights loaded
    history: pd.DataFrame  # HISTORY_COLUMNS, one row per epoch trained
    recipe: Recipe
    epochs: int  # epochs trained
    best_epoch: int  # 1-based epoch whose weights the model holds
    wall_time_s: float
    seconds_per_epoch: float
    device: str
    averaged_epochs: int = 1  # the model holds the mean of the last this many epochs' weights


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter or buffer."""
    return next(itertools.chain(model.parameters(), model.buffers())).device


def as_tensors(x: np.ndarray, y: np.ndarray, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(x float32, y int64) on ``device``; x is an own, writable copy."""
    xt = torch.from_numpy(np.array(x, dtype=np.float32)).to(device)  # own, writable copy
    return xt, torch.as_tensor(np.asarray(y, dtype=np.int64)).to(device)


def make_optimizer(recipe: Recipe, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """The recipe's optimizer with Keras' conventions (eps; RMSprop's eps outside the sqrt,
    as PyTorch's, and its mean-square accumulator starting at zero, as Keras 2)."""
    if recipe.optimizer == "adam":
        return torch.optim.Adam(
            params, lr=recipe.lr, eps=recipe.eps, weight_decay=recipe.weight_decay
        )
    if recipe.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=recipe.lr, alpha=recipe.rho, eps=recipe.eps, weight_decay=recipe.weight_decay
        )
    raise ValueError(f"unknown optimizer {recipe.optimizer!r}; optimizers: adam, rmsprop")


@torch.inference_mode()
def _loss_and_predictions(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1024,
    loss: str = "cross_entropy",
) -> tuple[float, torch.Tensor]:
    model.eval()
    loss_fn = loss_function(loss)
    total = torch.zeros((), device=x.device, dtype=torch.float64)
    preds = []
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size])
        total += loss_fn(logits, y[i : i + batch_size], reduction="sum")
        preds.append(logits.argmax(1))
    return float(total) / max(len(x), 1), torch.cat(preds)


def epoch_batches(
    n: int, batch_size: int, epoch: int, shuffle: bool, gen: torch.Generator, device: torch.device
) -> list[torch.Tensor]:
    """Index batches of 1-based ``epoch``. Shuffled: a fresh permutation each epoch (Keras'
    ``fit``). In order: the TF original's ``extract_batch_size``, a stream of consecutive
    windows in file order that wraps around and runs on across epochs, so epoch ``e`` ends
    after ``floor(e * n / batch_size)`` steps of the whole run."""
    if shuffle:
        return list(torch.randperm(n, generator=gen).to(device).split(batch_size))
    bs = min(batch_size, n)
    first, last = (epoch - 1) * n // bs, epoch * n // bs
    stream = torch.arange(first * bs, last * bs, device=device) % n
    return list(stream.split(bs))


def fit(
    architecture: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    seed: int,
    recipe: Recipe | None = None,
    device: str = "auto",
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    hparams: dict[str, object] | None = None,
    on_epoch: EpochCallback | None = None,
) -> FitResult:
    """Train one model for ``recipe.epochs`` epochs and keep the last weights. With ``x_val``
    every epoch is also scored on those windows (loss and accuracy in the history), and
    training stops after ``recipe.patience`` epochs without a lower validation loss; the
    epoch to keep is chosen from the history afterwards (:mod:`har_models.selection`).
    A stop requested by a signal (:mod:`har_models.stop`) raises ``Interrupted`` before the
    next batch."""
    recipe = recipe or get_spec(architecture).recipe
    dev = resolve_device(device)
    torch.manual_seed(seed)
    model = build_model(architecture, hparams)
    xt, yt = as_tensors(x_train, y_train, dev)
    if recipe.standardize:
        model.norm.fit(xt)
    model.to(dev)
    xv: torch.Tensor | None = None
    yv: torch.Tensor | None = None
    if x_val is not None and y_val is not None:
        xv, yv = as_tensors(x_val, y_val, dev)
    if getattr(model.net, "closed_form", False):
        return _fit_closed_form(model, recipe, seed, xt, yt, xv, yv, dev)

    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(recipe, params)
    loss_fn = loss_function(recipe.loss)
    gen = torch.Generator().manual_seed(seed)
    n = len(xt)
    rows: list[dict[str, float]] = []
    best = (math.inf, 0)  # (val loss, epoch)
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        batches = epoch_batches(n, recipe.batch_size, epoch, recipe.shuffle, gen, dev)
        seen = sum(len(b) for b in batches)
        loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        for idx in batches:
            check_stop()
            logits = model(xt[idx])
            loss = loss_fn(logits, yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == yt[idx]).sum()
        row = {
            "epoch": epoch,
            "train_loss": float(loss_sum) / seen,
            "train_accuracy": float(correct) / seen,
            "val_loss": math.nan,
            "val_accuracy": math.nan,
        }
        stop, pred = False, None
        if xv is not None and yv is not None:
            val_loss, pred = _loss_and_predictions(model, xv, yv, loss=recipe.loss)
            row["val_loss"] = val_loss
            row["val_accuracy"] = float((pred == yv).float().mean())
            if val_loss < best[0]:
                best = (val_loss, epoch)
            stop = recipe.patience is not None and epoch - best[1] >= recipe.patience
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        if on_epoch is not None:
            on_epoch(EpochReport(epoch, recipe.epochs, row, model, pred))
        if stop:
            break
    wall = time.perf_counter() - start
    best_epoch = len(rows)
    model.eval()
    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    return FitResult(
        model=model,
        history=history,
        recipe=recipe,
        epochs=len(rows),
        best_epoch=best_epoch,
        wall_time_s=wall,
        seconds_per_epoch=statistics.fmean(r["seconds"] for r in rows),
        device=device_name(dev),
    )


def _fit_closed_form(
    model: HarClassifier,
    recipe: Recipe,
    seed: int,
    xt: torch.Tensor,
    yt: torch.Tensor,
    xv: torch.Tensor | None,
    yv: torch.Tensor | None,
    dev: torch.device,
) -> FitResult:
    """A model fitted in one pass (random features + ridge): one history row, "epoch" 1."""
    net = model.net
    if not isinstance(net, ClosedFormNet):
        raise TypeError(f"{type(net).__name__} is closed_form but has no fit(x, y, seed)")
    start = time.perf_counter()
    info = net.fit(model.norm(xt), yt, seed=seed)
    row = {
        "epoch": 1,
        "train_loss": math.nan,
        "train_accuracy": info["train_accuracy"],
        "val_loss": math.nan,
        "val_accuracy": math.nan,
    }
    if xv is not None and yv is not None:
        val_loss, pred = _loss_and_predictions(model, xv, yv, batch_size=256, loss=recipe.loss)
        row["val_loss"], row["val_accuracy"] = val_loss, float((pred == yv).float().mean())
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = time.perf_counter() - start
    row["seconds"] = wall
    model.eval()
    return FitResult(
        model=model,
        history=pd.DataFrame([row], columns=list(HISTORY_COLUMNS)),
        recipe=recipe,
        epochs=1,
        best_epoch=1,
        wall_time_s=wall,
        seconds_per_epoch=wall,
        device=device_name(dev),
    )


def evaluate(
    model: nn.Module, x: np.ndarray, y: np.ndarray, subjects: np.ndarray | None = None
) -> tuple[Scores, float]:
    """(scores, mean cross-entropy) of ``model`` on (x, y), on the model's device; with
    ``subjects`` (one id per window) the scores include each subject's accuracy."""
    dev = model_device(model)
    xt, yt = as_tensors(x, y, dev)
    loss, pred = _loss_and_predictions(model, xt, yt)
    return score(np.asarray(y), pred.cpu().numpy(), subjects), loss


@torch.inference_mode()
def latency_ms_per_window(
    model: nn.Module, x: np.ndarray, batch_size: int, repeats: int = 10, warmup: int = 2
) -> float:
    """Median wall time of one forward pass at ``batch_size``, divided by the batch size."""
    model.eval()
    dev = model_device(model)
    reps = np.resize(np.asarray(x, dtype=np.float32), (batch_size, *np.shape(x)[1:]))
    xb = torch.as_tensor(reps).to(dev)
    times = []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        model(xb)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times) / batch_size
