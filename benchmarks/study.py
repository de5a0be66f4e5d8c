"""A whole study end to end through the training flow, once per batching mode, side by side:
the flow's wall time, each architecture's seconds per repeat, and the speed-up of batched
over solo repeats at the same core budget (the same split of the cores, or each mode's
own measured split with ``--max-workers`` left out).

    .venv/bin/python -m benchmarks.study --data-home DIR --architectures lstm cnn_lstm \\
        convlstm --repeats 10 [--epochs 2] [--modes solo batched auto] [--max-workers 1]

Each mode trains its own study (``<prefix>-<mode>``, ``--prefix`` default ``study-bench``)
and exports its run table to ``benchmarks/results/<study-id>.csv`` (``--export``). A study
id that already holds runs is refused: a reused run would time nothing. The tensors must be
ingested already (``har ingest``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pandas as pd

from benchmarks.results import export
from har_data.layout import DataHome
from har_models.device import cpu_model
from har_models.results import read_metrics

MODES = ("solo", "batched", "auto")


def run_mode(args: argparse.Namespace, mode: str) -> tuple[float, pd.DataFrame, str]:
    """(flow wall seconds, the study's metrics, study id) of one mode's study."""
    from flows.train import train

    study_id = f"{args.prefix}-{mode}"
    home = DataHome.resolve(args.data_home)
    if home.study(study_id).root.exists():
        raise SystemExit(f"{home.study(study_id).root} exists: remove it or pick another --prefix")
    start = time.perf_counter()
    train(  # type: ignore[call-overload]
        architectures=args.architectures, repeats=args.repeats, epochs=args.epochs,
        device=args.device, data_home=str(home.root), study_id=study_id,
        max_workers=args.max_workers, batching=mode,
    )  # fmt: skip
    wall = time.perf_counter() - start
    return wall, read_metrics(home.study(study_id).root), study_id


def summary(mode: str, wall: float, metrics: pd.DataFrame, repeats: int) -> list[str]:
    lines = [f"| {mode} | all | {wall:.0f} | {wall / repeats:.1f} | |"]
    for arch, runs in metrics.groupby("architecture", sort=False):
        # a batched repeat's wall_time_s is its share of its group's time
        per_repeat = runs["wall_time_s"].sum() / len(runs)
        acc = 100 * runs["accuracy"].mean()
        lines.append(f"| {mode} | {arch} | | {per_repeat:.1f} | {acc:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=os.environ.get("HAR_HOME", "har-data"))
    parser.add_argument("--architectures", nargs="+", default=["lstm", "cnn_lstm", "convlstm"])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-workers", type=int, default=None)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["solo", "batched"])
    parser.add_argument("--prefix", default="study-bench")
    parser.add_argument("--export", action="store_true", help="write each run table")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# {cpu_model()}, {os.cpu_count()} cores, load {load:.2f} at start")
    rows = ["| mode | architecture | flow wall s | s per repeat | mean accuracy % |",
            "|---|---|---|---|---|"]  # fmt: skip
    walls = {}
    for mode in args.modes:
        wall, metrics, study_id = run_mode(args, mode)
        walls[mode] = wall
        rows += summary(mode, wall, metrics, args.repeats)
        if args.export:
            print(f"run table: {export(DataHome.resolve(args.data_home).study(study_id))}")
    print("\n".join(rows))
    if "solo" in walls:
        for mode in (m for m in walls if m != "solo"):
            print(f"speed-up of {mode} over solo: {walls['solo'] / walls[mode]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
