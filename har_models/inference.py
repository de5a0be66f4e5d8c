"""Predict with any checkpoint: class probabilities and one row per window.

The checkpoint says everything needed (architecture, weights, dimensions, channel order,
sampling rate, label names, and the recipe whose loss defines its probabilities), so one
path serves every registered family. Checkpoints are read only by
:func:`har_models.checkpoint.load_checkpoint` (``weights_only``: a file cannot run code).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from har_data.readers import Windows, WindowSpec
from har_models.checkpoint import CheckpointError, load_checkpoint, read_checkpoint
from har_models.classifier import HarClassifier
from har_models.losses import PROBABILITIES
from har_models.registry import REGISTRY


def probability_column(activity: str) -> str:
    return f"p_{activity.lower()}"


def recipe_loss(payload: dict[str, Any]) -> str:
    """The loss the checkpoint's model was trained with: it decides how logits become
    probabilities. Older checkpoints without a recorded recipe use their architecture's."""
    extra = payload.get("extra") or {}
    recipe = extra.get("recipe") if isinstance(extra, dict) else None
    if isinstance(recipe, dict) and recipe.get("loss"):
        return str(recipe["loss"])
    spec = REGISTRY.get(str(payload.get("architecture")))
    return spec.recipe.loss if spec is not None else "cross_entropy"


@dataclass
class Predictor:
    """A loaded model and what its inputs and outputs mean."""

    model: HarClassifier
    spec: WindowSpec
    activities: tuple[str, ...]
    loss: str
    path: Path

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> Predictor:
        """Load ``path``; anything that is not a checkpoint this version can run raises
        :class:`CheckpointError` (or FileNotFoundError) naming the file."""
        path = Path(path)
        try:
            payload = read_checkpoint(path)
            model = load_checkpoint(path, device=device)
        except (CheckpointError, FileNotFoundError):
            raise
        except KeyError as e:
            raise CheckpointError(f"{path}: not a complete checkpoint (no {e})") from None
        except (ValueError, RuntimeError, TypeError) as e:  # unknown architecture, shapes
            message = " ".join(str(e).split())[:300]
            raise CheckpointError(f"{path}: cannot build its model ({message})") from None
        loss = recipe_loss(payload)
        if loss not in PROBABILITIES:
            raise CheckpointError(f"{path}: unknown output type (loss {loss!r})")
        spec = WindowSpec(
            channels=tuple(payload["channels"]),
            n_steps=int(model.dims["n_steps"]),
            sample_rate_hz=float(payload["sample_rate_hz"]),
        )
        return cls(model, spec, tuple(payload["activities"]), loss, path)

    @torch.inference_mode()
    def probabilities(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """(N, n_classes) float32 probabilities of raw windows (N, n_steps, n_channels)."""
        return probabilities(self.model, x, self.loss, batch_size)

    def predict_frame(self, windows: Windows, batch_size: int = 1024) -> pd.DataFrame:
        """One row per window: its index, start, predicted activity, then one probability
        column per activity (``p_walking``, ...); ``true_activity`` where the input has labels."""
        probs = self.probabilities(windows.x, batch_size)
        names = np.asarray(self.activities, dtype=object)
        frame: dict[str, Any] = {
            "window": np.arange(len(windows), dtype=np.int64),
            "start": windows.start,
            "start_s": windows.start_s
            if windows.start_s is not None
            else np.full(len(windows), np.nan),
            "activity": names[probs.argmax(1)] if len(probs) else np.empty(0, object),
        }
        if windows.labels is not None:
            frame["true_activity"] = names[windows.labels]
        for k, activity in enumerate(self.activities):
            frame[probability_column(activity)] = probs[:, k]
        return pd.DataFrame(frame)


def probabilities(
    model: torch.nn.Module, x: np.ndarray, loss: str = "cross_entropy", batch_size: int = 1024
) -> np.ndarray:
    """Class probabilities as the model's training loss defines them (softmax for
    cross-entropy), computed in batches in eval mode."""
    to_probs = PROBABILITIES[loss]
    was_training = model.training
    model.eval()
    device = next(itertools.chain(model.parameters(), model.buffers())).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            batch = np.array(x[i : i + batch_size], dtype=np.float32)  # a writable copy
            xb = torch.from_numpy(batch).to(device)
            out.append(to_probs(model(xb)).float().cpu().numpy())
    model.train(was_training)
    n_classes = int(getattr(model, "dims", {}).get("n_classes", 0))
    return np.concatenate(out) if out else np.empty((0, n_classes), np.float32)
