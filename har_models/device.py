"""Pick the accelerator: cuda, then mps, then cpu, unless the caller names one."""

from __future__ import annotations

import platform
import re
from typing import Final

import torch

DEVICE_PATTERN: Final = r"^(auto|cpu|mps|cuda(:\d+)?)$"


def resolve_device(device: str = "auto") -> torch.device:
    if not re.fullmatch(DEVICE_PATTERN, device):
        raise ValueError(f"device must be auto, cpu, mps, cuda or cuda:N, got {device!r}")
    if device != "auto":
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} requested but CUDA is not available")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} requested but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """Human-readable name recorded with every run (GPU model, or CPU architecture)."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "mps"
    return f"cpu:{platform.machine()}x{torch.get_num_threads()}"
