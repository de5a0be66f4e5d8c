"""Batched repeats: R repeats of one architecture trained as one computation.

Each repeat's weights are a slice of stacked parameters (``torch.func.stack_module_state``)
and one ``torch.func.vmap`` of the architecture's own forward computes every repeat's batch
at once: convolutions become grouped convolutions, dense layers batched matmuls. Two pieces
of a model are swapped in the batched copy only, with the same parameter names:

- ``nn.LSTM`` -> :class:`LoopLSTM`, the same cell as a loop of (batched) matmuls: PyTorch's
  fused LSTM kernels have no vmap rule;
- ``nn.Dropout`` -> :class:`MaskDropout`, which multiplies by a mask drawn outside the vmap
  from the repeat's own generator, in the order and shape solo training draws it.

So every repeat keeps its own seed, initialisation (each is built alone, under its seed),
batch order (its own shuffling generator) and dropout masks, and ends with its own
:class:`~har_models.training.FitResult`, weights in an ordinary model: its checkpoint loads
and predicts like any other. On CPU the masks are the very ones solo training draws (the
same generator state, the same ``bernoulli_`` call), so a batched repeat follows its solo
twin up to float rounding (the loop adds in another order than oneDNN's LSTM). On CUDA the
fused dropout kernel draws differently: same distribution, other masks.

Only fixed-epoch training batches (the ``published`` protocol): ``validated`` selection
fits train on folds that differ per seed, so they run solo.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from har_models.classifier import HarClassifier
from har_models.device import device_name, resolve_device
from har_models.losses import loss_function
from har_models.registry import Recipe, build_model, get_spec
from har_models.results import HISTORY_COLUMNS
from har_models.stop import check_stop
from har_models.training import FitResult, as_tensors, epoch_batches, make_optimizer

# ``on_epoch(epoch, epochs, rows)``: every repeat's history row after each epoch.
RepeatsCallback = Callable[[int, int, list[dict[str, float]]], None]


class LoopLSTM(nn.LSTM):
    """``nn.LSTM`` (batch_first, unidirectional, no inter-layer dropout) as a loop of
    matmuls, which ``vmap`` batches over repeats. Same parameters, same outputs."""

    def forward(self, x: torch.Tensor, hx: Any = None) -> Any:  # type: ignore[override]
        if hx is not None or not self.batch_first or self.bidirectional or self.proj_size:
            raise NotImplementedError("LoopLSTM covers batch_first, unidirectional layers")
        hs, cs = [], []
        for layer in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")
            w_hh = getattr(self, f"weight_hh_l{layer}")
            bias = getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            gates_x = (x @ w_ih.T + bias).unbind(1)  # one (batch, 4h) tensor per step
            h = c = x.new_zeros(x.shape[0], self.hidden_size)
            outputs = []
            for gx in gates_x:
                i, f, g, o = (gx + h @ w_hh.T).chunk(4, dim=-1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outputs.append(h)
            x = torch.stack(outputs, dim=1)
            hs.append(h)
            cs.append(c)
        return x, (torch.stack(hs), torch.stack(cs))


class MaskDropout(nn.Module):
    """Dropout whose masks (already divided by 1 - p) are handed in before each forward."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.masks: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * self.masks.pop(0)


def batched_copy(model: nn.Module) -> tuple[nn.Module, list[MaskDropout]]:
    """A copy of ``model`` with its LSTMs and dropouts swapped (see the module docstring),
    and its dropouts in module order."""
    twin = copy.deepcopy(model)
    drops: list[MaskDropout] = []
    for parent in list(twin.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.LSTM) and not isinstance(child, LoopLSTM):
                loop = LoopLSTM(
                    child.input_size, child.hidden_size, num_layers=child.num_layers,
                    batch_first=child.batch_first,
                )  # fmt: skip
                loop.load_state_dict(child.state_dict())
                setattr(parent, name, loop)
            elif isinstance(child, nn.Dropout):
                setattr(parent, name, MaskDropout(child.p))
    for module in twin.modules():
        if isinstance(module, MaskDropout):
            drops.append(module)
    return twin.to("meta"), drops


Layout = tuple[torch.Size, tuple[int, ...]]  # a tensor's shape and strides


def dropout_calls(model: nn.Module, x: torch.Tensor) -> list[tuple[nn.Dropout, Layout]]:
    """The dropouts one training forward of ``model`` calls, in call order, with their
    input's shape and strides: ``F.dropout`` fills its mask in the input's memory order (an
    LSTM's batch-first output is a transposed view), so a twin mask needs both."""
    calls: list[tuple[nn.Dropout, Layout]] = []
    hooks = [
        m.register_forward_pre_hook(
            lambda mod, args: calls.append((mod, (args[0].shape, args[0].stride())))
        )
        for m in model.modules()
        if isinstance(m, nn.Dropout) and m.p > 0
    ]
    state = torch.random.get_rng_state()
    try:
        with torch.no_grad():
            model.train()
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
        torch.random.set_rng_state(state)
    return calls


def stacked_mask(
    layout: Layout, p: float, gens: Sequence[torch.Generator], dev: torch.device
) -> torch.Tensor:
    """(R, *shape): repeat r's dropout mask from its own generator, drawn and scaled exactly
    as ``F.dropout`` does on CPU (``bernoulli_(1 - p)`` in the input's memory order, then
    ``/ (1 - p)``)."""
    shape, stride = layout
    return torch.stack(
        [
            torch.empty_strided(shape, stride, device=dev)
            .bernoulli_(1 - p, generator=g)
            .div_(1 - p)
            for g in gens
        ]
    )


def batch_refusal(architecture: str, protocol: str) -> str | None:
    """Why runs of ``architecture`` under ``protocol`` cannot train batched, or None: the
    ``validated`` protocol's selection folds differ per seed, and a closed-form model has no
    training steps to batch."""
    if protocol != "published":
        return f"{protocol} runs train alone: their selection folds differ per seed"
    if build_model(architecture).closed_form:
        return f"{architecture} is fitted in closed form: nothing to batch"
    return None


def group_sizes(repeats: int, workers: int) -> list[int]:
    """How batched training splits ``repeats`` over ``workers``: as even as possible."""
    groups = min(repeats, workers)
    return [len(part) for part in np.array_split(np.arange(repeats), groups)]


def fit_repeats(
    architecture: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    seeds: Sequence[int],
    recipe: Recipe | None = None,
    device: str = "auto",
    hparams: dict[str, object] | None = None,
    on_epoch: RepeatsCallback | None = None,
) -> list[FitResult]:
    """Train one model per seed, all in one computation, each as :func:`training.fit` would
    train it alone for ``recipe.epochs`` epochs; one :class:`FitResult` per seed, in order.
    A repeat's ``seconds`` are its share of the group's time (the group's time / R)."""
    recipe = recipe or get_spec(architecture).recipe
    dev = resolve_device(device)
    xt, yt = as_tensors(x_train, y_train, dev)
    models: list[HarClassifier] = []
    drop_gens: list[torch.Generator] = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = build_model(architecture, hparams)
        if getattr(model.net, "closed_form", False):
            raise ValueError(f"{architecture} is fitted in closed form: nothing to batch")
        if recipe.standardize:
            model.norm.fit(xt)
        models.append(model.to(dev))
        gen = torch.Generator(dev)
        if dev.type == "cpu":  # where solo training's dropout draws next
            gen.set_state(torch.random.get_rng_state())
        else:
            gen.manual_seed(seed)
        drop_gens.append(gen)
    params, buffers = stack_module_state(models)
    template, drops = batched_copy(models[0])
    solo_drops = [m for m in models[0].modules() if isinstance(m, nn.Dropout)]
    slots = {id(m): i for i, m in enumerate(solo_drops)}
    trainable = [p for p in params.values() if p.requires_grad]
    opt = make_optimizer(recipe, trainable)
    loss_fn = loss_function(recipe.loss)
    shuffle_gens = [torch.Generator().manual_seed(seed) for seed in seeds]
    n, reps = len(xt), len(seeds)

    calls: list[int] = []  # the dropout slot of each mask of the current step, in order

    def one(
        p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], x: torch.Tensor,
        y: torch.Tensor, masks: list[torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        for slot, mask in zip(calls, masks, strict=True):
            drops[slot].masks.append(mask)
        logits = functional_call(template, (p, b), (x,))
        return loss_fn(logits, y), logits

    step = vmap(one)
    shapes: dict[int, list[tuple[int, Layout, float]]] = {}
    rows: list[list[dict[str, float]]] = [[] for _ in seeds]
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        t0 = time.perf_counter()
        template.train()
        batches = [
            epoch_batches(n, recipe.batch_size, epoch, recipe.shuffle, g, dev) for g in shuffle_gens
        ]
        seen = sum(len(b) for b in batches[0])
        loss_sum = torch.zeros(reps, device=dev, dtype=torch.float64)
        correct = torch.zeros(reps, device=dev, dtype=torch.int64)
        for k in range(len(batches[0])):
            check_stop()
            idx = torch.stack([b[k] for b in batches])  # (R, batch)
            size = idx.shape[1]
            if size not in shapes:
                found = dropout_calls(models[0], xt[idx[0]])
                shapes[size] = [(slots[id(m)], s, m.p) for m, s in found]
            calls[:] = [slot for slot, _, _ in shapes[size]]
            masks = [stacked_mask(shape, p, drop_gens, dev) for _, shape, p in shapes[size]]
            x, y = xt[idx], yt[idx]
            losses, logits = step(params, buffers, x, y, masks)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            loss_sum += losses.detach() * size
            correct += (logits.detach().argmax(-1) == y).sum(1)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds = (time.perf_counter() - t0) / reps
        for r in range(reps):
            rows[r].append({
                "epoch": epoch,
                "train_loss": float(loss_sum[r]) / seen,
                "train_accuracy": float(correct[r]) / seen,
                "val_loss": float("nan"),
                "val_accuracy": float("nan"),
                "seconds": seconds,
            })  # fmt: skip
        if on_epoch is not None:
            on_epoch(epoch, recipe.epochs, [r[-1] for r in rows])
    wall = (time.perf_counter() - start) / reps
    results = []
    for r, model in enumerate(models):
        state = {k: v[r].detach() for k, v in {**params, **buffers}.items()}
        model.load_state_dict(state)
        model.eval()
        results.append(
            FitResult(
                model=model,
                history=pd.DataFrame(rows[r], columns=list(HISTORY_COLUMNS)),
                recipe=recipe,
                epochs=recipe.epochs,
                best_epoch=recipe.epochs,
                wall_time_s=wall,
                seconds_per_epoch=statistics.fmean(row["seconds"] for row in rows[r]),
                device=device_name(dev),
            )
        )
    return results
