"""Pick the accelerator: cuda, then mps, then cpu, unless the caller names one."""

from __future__ import annotations

import os
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


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_description(device: torch.device) -> str:
    """What a run ran on, for the report: the GPU's model and memory, or the CPU's model and
    the cores this process may use."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    cpu = f"{cpu_model()}, {cores} cores"
    return f"Apple MPS on {cpu}" if device.type == "mps" else cpu
