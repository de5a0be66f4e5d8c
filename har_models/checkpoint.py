"""Checkpoints that are enough to predict alone: weights, architecture, hyperparameters,
channel order, label names, normalization statistics (buffers of the model) and the data
sha256. Saved with plain types so ``torch.load(weights_only=True)`` can read them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from data_contracts.dataset import ACTIVITIES, CHANNELS
from har_models.classifier import HarClassifier
from har_models.registry import build_model

FORMAT_VERSION = 1


def save_checkpoint(
    model: HarClassifier,
    path: str | os.PathLike[str],
    *,
    data_sha256: str = "",
    extra: dict[str, object] | None = None,
) -> Path:
    """Write atomically (temp name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "architecture": model.architecture,
        "hparams": dict(model.hparams),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "channels": list(CHANNELS),
        "activities": list(ACTIVITIES),
        "data_sha256": data_sha256,
        "extra": dict(extra or {}),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, object]:
    """The raw payload (metadata and state dict)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported checkpoint format {payload.get('format_version')!r}")
    if tuple(payload["channels"]) != CHANNELS or tuple(payload["activities"]) != ACTIVITIES:
        raise ValueError(f"{path}: channel order or label names differ from data_contracts")
    return payload


def load_checkpoint(path: str | os.PathLike[str], device: str = "cpu") -> HarClassifier:
    """A model in eval mode on ``device``, taking raw windows (N, 128, 9): call ``.predict``."""
    payload = read_checkpoint(path)
    model = build_model(str(payload["architecture"]), dict(payload["hparams"]))
    model.load_state_dict(payload["state_dict"])
    model.data_sha256 = payload["data_sha256"]
    return model.to(device).eval()
