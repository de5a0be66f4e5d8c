"""Latency per window of trained checkpoints at batch 1 and 256, one thread, on real windows.

    .venv/bin/python -m benchmarks.latency CHECKPOINT [CHECKPOINT ...] --data-home DIR

Prints, for each checkpoint, the median wall time and the process CPU time per window. On a
shared machine the wall time includes waiting for a core; the CPU time is what the model
itself costs, and is the figure to compare with a latency budget there. The load average is
printed alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

from har_data.layout import DataHome
from har_models.checkpoint import load_checkpoint
from har_models.data import read_split


def measure(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> tuple[float, float]:
    """(median wall ms, mean CPU ms) per window of ``model(x)``."""
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        walls, cpu0 = [], time.process_time()
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            walls.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / repeats
    return 1000 * statistics.median(walls) / len(x), 1000 * cpu / len(x)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--data-home", default=None)
    p.add_argument("--repeats", type=int, default=50)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    test = read_split(DataHome.resolve(a.data_home).split_path("test"))
    x = torch.from_numpy(test.x[:256].copy())
    print(
        "| checkpoint | batch 1: wall / CPU ms per window | batch 256: wall / CPU ms per window | load |"
    )
    print("|---|---:|---:|---:|")
    for path in a.checkpoints:
        model = load_checkpoint(path)
        w1, c1 = measure(model, x[:1], a.repeats)
        w256, c256 = measure(model, x, max(2, a.repeats // 25))
        print(
            f"| {model.architecture} ({os.path.basename(path)}) | {w1:.2f} / {c1:.2f} | "
            f"{w256:.2f} / {c256:.2f} | {os.getloadavg()[0]:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
