"""Does averaging the weights of the last epochs help, decided on training subjects only.

    .venv/bin/python -m benchmarks.averaging cnn_lstm convlstm lstm --seeds 0 1 2 \\
        --threads 1 --data-home /tmp/har-home --out /tmp/averaging

For each (architecture, seed) the training subjects fall in the ``validated`` protocol's
folds (``subject_folds`` with that seed, as ``fit_validated`` draws them); each fold is held
out once while the model trains on the others for the recipe's epochs. After every epoch the
held-out windows are scored with the epoch's own weights and with the uniform mean of the
weights of the last ``k`` epochs (``k`` in ``--windows``). The test split is never read.

A rule picks (weights, epoch) on the mean of two folds' curves and is scored on the third
fold's curve at that choice, each fold in turn (leave one fold out), so a rule's score never
comes from the windows it chose on. One JSON per (architecture, seed, fold) in ``--out``;
existing ones are reused.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from har_data.atomic import write_text
from har_data.layout import DataHome
from har_models.averaging import TrailingMean, held_out_accuracy
from har_models.data import Split, read_split, subject_folds
from har_models.protocol import SELECTION_FOLDS
from har_models.registry import ARCHITECTURES, get_spec
from har_models.selection import choose
from har_models.training import EpochReport, fit

WINDOWS = (3, 5, 8)


def run_fold(
    architecture: str, seed: int, fold: int, held_out: np.ndarray, train: Split, windows: tuple
) -> dict[str, object]:
    recipe = get_spec(architecture).recipe
    mask = np.isin(train.subject, held_out)
    fit_set, val = train.subset(~mask), train.subset(mask)
    xv = torch.as_tensor(val.x)
    yv = torch.as_tensor(val.y, dtype=torch.int64)
    recent = TrailingMean(max(windows))
    curves: dict[str, list[float]] = {"k1": [], **{f"k{k}": [] for k in windows}}
    scratch: list[torch.nn.Module] = []

    def on_epoch(report: EpochReport) -> None:
        model = report.model
        recent.add(model)
        curves["k1"].append(held_out_accuracy(model, xv, yv))
        if not scratch:
            scratch.append(copy.deepcopy(model))
        for k in windows:
            scratch[0].load_state_dict(recent.mean(last=k))
            curves[f"k{k}"].append(held_out_accuracy(scratch[0], xv, yv))

    t0 = time.perf_counter()
    fit(architecture, fit_set.x, fit_set.y, seed=seed, device="cpu", recipe=recipe,
        on_epoch=on_epoch)  # fmt: skip
    return {
        "architecture": architecture,
        "seed": seed,
        "fold": fold,
        "held_out": held_out.tolist(),
        "recipe_epochs": recipe.epochs,
        "seconds": time.perf_counter() - t0,
        **curves,
    }


def choose_on(curves: list[dict], rule: str, window: int) -> tuple[str, int]:
    """(curve, 1-based epoch) that ``rule`` picks on the mean of ``curves``: the protocol's
    own :func:`har_models.selection.choose`, or ``fixed`` (the recipe's epochs, the mean of
    the last ``window`` epochs' weights: nothing chosen, for comparison)."""
    mean = {k: np.mean([c[k] for c in curves], axis=0) for k in ("k1", f"k{window}")}
    if rule == "fixed":
        return f"k{window}", len(mean["k1"])
    frame = pd.DataFrame(
        {
            "val_loss": np.nan,
            "val_accuracy": mean["k1"],
            "averaged_val_accuracy": mean[f"k{window}"],
        }
    )
    choice = choose(frame, rule, window)
    return f"k{choice.averaged_epochs}", choice.epochs


# (rule, window): the protocol's rules that read accuracy, and fixed windows for comparison
def rules_here(windows: tuple[int, ...]) -> list[tuple[str, int]]:
    own = [("last", 1), ("smoothed_val_accuracy", 1)]
    averaged = [
        (rule, k) for rule in ("smoothed_averaged_accuracy", "smoothed_any", "fixed")
        for k in windows
    ]  # fmt: skip
    return own + averaged


def leave_one_fold_out(records: list[dict], rule: str, window: int) -> tuple[float, list[str]]:
    """Mean held-out accuracy of ``rule``: per (architecture, seed), choose on two folds'
    mean curve, score on the third."""
    by_run: dict[tuple, list[dict]] = {}
    for r in records:
        by_run.setdefault((r["architecture"], r["seed"]), []).append(r)
    scores, picks = [], []
    for folds in by_run.values():
        if len(folds) < SELECTION_FOLDS:  # still running
            continue
        for i, scored in enumerate(folds):
            others = [f for j, f in enumerate(folds) if j != i]
            key, epoch = choose_on(others, rule, window)
            scores.append(scored[key][epoch - 1])
            picks.append(f"{key}@{epoch}")
    return (statistics.fmean(scores) if scores else float("nan")), picks


def summarize(records: list[dict], windows: tuple[int, ...]) -> pd.DataFrame:
    """One row per (architecture, rule, window): the leave-one-fold-out held-out accuracy (%)
    and each choice (``k<window>@<epoch>``)."""
    rows = []
    for arch in sorted({r["architecture"] for r in records}):
        mine = [r for r in records if r["architecture"] == arch]
        for rule, window in rules_here(windows):
            acc, picks = leave_one_fold_out(mine, rule, window)
            rows.append({"architecture": arch, "rule": rule, "window": window,
                         "folds": len(picks), "held_out_accuracy": round(100 * acc, 2),
                         "picks": " ".join(picks)})  # fmt: skip
    return pd.DataFrame(rows)


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """Rules down, architectures across, and their mean."""
    out = table.pivot_table(
        index=["rule", "window"], columns="architecture", values="held_out_accuracy", sort=False
    )
    out["mean"] = out.mean(axis=1).round(2)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("architectures", nargs="+", choices=ARCHITECTURES)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--windows", type=int, nargs="+", default=list(WINDOWS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-home", default=None)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--csv", type=Path, default=None, help="also write the summary here")
    p.add_argument("--summary-only", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    if not a.summary_only:
        train = read_split(DataHome.resolve(a.data_home).split_path("train"))  # never test
        for arch in a.architectures:
            for seed in a.seeds:
                folds = subject_folds(train.subject, seed, SELECTION_FOLDS)
                for fold, held_out in enumerate(folds, start=1):
                    path = a.out / f"{arch}__seed{seed}__fold{fold}.json"
                    if path.exists():
                        continue
                    record = run_fold(arch, seed, fold, held_out, train, tuple(a.windows))
                    write_text(path, json.dumps(record))
                    print(f"{path.name}: {record['seconds']:.0f} s", flush=True)
    records = [json.loads(f.read_text()) for f in sorted(a.out.glob("*.json"))]
    mine = [r for r in records if r["architecture"] in a.architectures]
    table = summarize(mine, tuple(a.windows))
    print(wide(table).to_string())
    if a.csv:
        table.to_csv(a.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
