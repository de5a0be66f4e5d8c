"""Batched against solo repeats, one training epoch on the real training windows, side by
side in one process: R solo fits one after the other (what solo training does) against one
batched fit of the same R seeds (``har_models.batched``), at each thread count.

    .venv/bin/python -m benchmarks.batched_repeats --data-home DIR [--repeats 10] \\
        [--architectures lstm cnn_lstm convlstm stacked_lstm] [--threads 1 2] [--windows N]

Prints wall seconds per repeat-epoch for both and the ratio (solo / batched: above 1, batched
is faster). The solo fits and the batched fit alternate per architecture, so a change of
load hits both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

from har_data.layout import DataHome
from har_models.batched import fit_repeats
from har_models.data import read_split
from har_models.device import cpu_model
from har_models.registry import get_spec
from har_models.training import fit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=os.environ.get("HAR_HOME", "har-data"))
    parser.add_argument("--architectures", nargs="+",
                        default=["lstm", "cnn_lstm", "convlstm", "stacked_lstm"])  # fmt: skip
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--windows", type=int, default=None, help="first N training windows")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    split = read_split(DataHome.resolve(args.data_home).split_path("train"))
    x, y = split.x[: args.windows], split.y[: args.windows]
    load = os.getloadavg()[0]
    print(f"# {cpu_model()}, {len(x)} windows, R = {args.repeats}, load {load:.2f} at start")
    print(
        "| architecture | threads | solo s per repeat-epoch | batched s per repeat-epoch | solo / batched |"
    )
    print("|---|---|---|---|---|")
    seeds = list(range(args.repeats))
    for arch in args.architectures:
        recipe = get_spec(arch).recipe.with_overrides(epochs=1)
        for threads in args.threads:
            torch.set_num_threads(threads)
            t0 = time.perf_counter()
            for seed in seeds:
                fit(arch, x, y, seed=seed, recipe=recipe, device=args.device)
            solo = (time.perf_counter() - t0) / len(seeds)
            t0 = time.perf_counter()
            fit_repeats(arch, x, y, seeds=seeds, recipe=recipe, device=args.device)
            batched = (time.perf_counter() - t0) / len(seeds)
            print(f"| {arch} | {threads} | {solo:.2f} | {batched:.2f} | {solo / batched:.2f} |",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
