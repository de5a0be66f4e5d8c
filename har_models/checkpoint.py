"""Checkpoints that are enough to predict alone: weights, architecture, hyperparameters,
input dimensions, channel order, label names, normalization statistics (buffers of the
model) and the data sha256. Plain types only, so ``torch.load(weights_only=True)`` reads
them and a checkpoint from a stranger cannot run code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from data_contracts.dataset import ACTIVITIES, CHANNELS, N_STEPS, SAMPLE_RATE_HZ
from har_data.atomic import atomic_path
from har_models.classifier import HarClassifier
from har_models.registry import build_model

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: before input dimensions were recorded (UCI HAR windows)


class CheckpointError(ValueError):
    """A file that is not a checkpoint this version can load."""


def save_checkpoint(
    model: HarClassifier,
    path: str | os.PathLike[str],
    *,
    data_sha256: str = "",
    extra: dict[str, object] | None = None,
) -> Path:
    """Write atomically (temp name, then rename)."""
    payload = {
        "format_version": FORMAT_VERSION,
        "architecture": model.architecture,
        "hparams": dict(model.hparams),
        "dims": dict(model.dims),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "channels": list(CHANNELS),
        "activities": list(ACTIVITIES),
        "sample_rate_hz": SAMPLE_RATE_HZ,
        "data_sha256": data_sha256,
        "extra": dict(extra or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw payload (metadata and state dict), checked for format and consistency."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a pickle with code, a truncated or foreign file
        raise CheckpointError(f"{path}: not a readable har-pipeline checkpoint ({e})") from None
    if not isinstance(payload, dict) or payload.get("format_version") not in READABLE_VERSIONS:
        version = payload.get("format_version") if isinstance(payload, dict) else None
        raise CheckpointError(
            f"{path}: unsupported checkpoint format {version!r} "
            f"(this version reads {', '.join(map(str, READABLE_VERSIONS))})"
        )
    channels, activities = list(payload["channels"]), list(payload["activities"])
    dims = payload.setdefault(
        "dims",
        {"n_steps": N_STEPS, "n_channels": len(channels), "n_classes": len(activities)},
    )
    if dims["n_channels"] != len(channels) or dims["n_classes"] != len(activities):
        raise CheckpointError(f"{path}: dimensions {dims} disagree with its channels/labels")
    payload.setdefault("sample_rate_hz", SAMPLE_RATE_HZ)
    return payload


def load_checkpoint(path: str | os.PathLike[str], device: str = "cpu") -> HarClassifier:
    """A model in eval mode on ``device``, taking raw windows: call ``.predict``."""
    payload = read_checkpoint(path)
    model = build_model(str(payload["architecture"]), dict(payload["hparams"]), payload["dims"])
    model.load_state_dict(payload["state_dict"])
    model.data_sha256 = payload["data_sha256"]
    return model.to(device).eval()
