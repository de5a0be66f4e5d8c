"""Compare model variants on validation subjects only: how a port's choices are made.

    .venv/bin/python -m benchmarks.validation stacked_lstm --variant init=keras \\
        --variant init=tf_original --seeds 0 1 --out /tmp/init-study

A variant sets model hyperparameters and, under the names of ``Recipe`` fields, the
recipe: ``--variant shuffle=false,eps=1e-8`` trains in file order with TF1's Adam eps.

Each (variant, seed) trains the architecture's published recipe (fixed epochs) on the
training subjects minus a held-out fifth (``har_models.data.subject_split``, chosen by the
seed) and scores every epoch on those held-out subjects. The test split is never read.
One JSON per (variant, seed) lands in ``--out``; existing ones are reused, so several
processes can share a folder. The summary compares the last epoch's validation accuracy
(what the published protocol would keep) and the mean over the last 10 % of epochs
(less noisy), averaged over seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from har_data.atomic import write_text
from har_data.layout import DataHome
from har_models.data import Split, read_split, subject_split
from har_models.registry import ARCHITECTURES, Recipe, build_model, get_spec
from har_models.training import fit


def parse_variant(text: str) -> dict[str, object]:
    """``key=value[,key=value]`` -> hparams; values are JSON where they parse, else strings."""
    out: dict[str, object] = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--variant {text!r}: expected key=value")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def variant_name(hparams: dict[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(hparams.items())) or "default"


RECIPE_FIELDS = frozenset(f.name for f in dataclasses.fields(Recipe))


def split_variant(
    architecture: str, variant: dict[str, object], epochs: int | None
) -> tuple[Recipe, dict[str, object]]:
    """(recipe, model hparams) of a variant: keys naming ``Recipe`` fields go to the recipe."""
    base = get_spec(architecture).recipe.with_overrides(epochs=epochs)
    changes: dict[str, Any] = {k: v for k, v in variant.items() if k in RECIPE_FIELDS}
    hparams = {k: v for k, v in variant.items() if k not in RECIPE_FIELDS}
    if "patience" in changes:
        raise ValueError(
            f"--variant {variant_name(variant)}: the study trains every epoch, no patience"
        )
    for key, value in changes.items():
        default = getattr(base, key)
        want = bool if isinstance(default, bool) else int if isinstance(default, int) else float
        ok = (
            isinstance(value, bool)
            if want is bool
            else (
                isinstance(value, (int, float) if want is float else int)
                and not isinstance(value, bool)
            )
        )
        if not ok:
            raise ValueError(
                f"--variant {variant_name(variant)}: recipe field {key}={value!r} "
                f"must be {want.__name__} (default {default!r})"
            )
    recipe = dataclasses.replace(base, **changes, patience=None)  # all epochs, no early stop
    return recipe, hparams


def run_variant(
    architecture: str, variant: dict[str, object], seed: int, train: Split, epochs: int | None
) -> dict[str, Any]:
    fit_set, val_set = subject_split(train, seed)
    recipe, hparams = split_variant(architecture, variant, epochs)
    result = fit(
        architecture, fit_set.x, fit_set.y, seed=seed, recipe=recipe,
        x_val=val_set.x, y_val=val_set.y, hparams=hparams,
    )  # fmt: skip
    hist = result.history
    return {
        "architecture": architecture,
        "hparams": variant,
        "recipe": recipe.as_dict(),
        "seed": seed,
        "validation_subjects": sorted(int(s) for s in set(val_set.subject.tolist())),
        "n_fit": len(fit_set),
        "n_val": len(val_set),
        "val_accuracy": hist["val_accuracy"].tolist(),
        "val_loss": hist["val_loss"].tolist(),
        "train_loss": hist["train_loss"].tolist(),
        "seconds_per_epoch": result.seconds_per_epoch,
        "device": result.device,
    }


def summarize(records: list[dict]) -> list[str]:
    lines = ["| variant | seeds | last-epoch val acc (%) | mean of last 10 % epochs (%) |"]
    lines.append("|---|---|---|---|")
    by_variant: dict[str, list[dict]] = {}
    for r in records:
        by_variant.setdefault(variant_name(r["hparams"]), []).append(r)
    for name, rs in sorted(by_variant.items()):
        last = [100 * r["val_accuracy"][-1] for r in rs]
        tail = [
            100 * statistics.fmean(r["val_accuracy"][-max(1, len(r["val_accuracy"]) // 10) :])
            for r in rs
        ]
        seeds = ", ".join(str(r["seed"]) for r in rs)
        per_seed = ", ".join(f"{v:.2f}" for v in last)
        lines.append(
            f"| {name} | {seeds} | {statistics.fmean(last):.2f} ({per_seed}) | "
            f"{statistics.fmean(tail):.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("architecture", choices=ARCHITECTURES)
    p.add_argument("--variant", type=parse_variant, action="append", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    p.add_argument("--data-home", default=None)
    p.add_argument("--out", type=Path, required=True, help="folder for one JSON per run")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    variants = a.variant or [{}]
    for variant in variants:  # bad hparams or recipe fields fail before any training
        try:
            build_model(a.architecture, split_variant(a.architecture, variant, a.epochs)[1])
        except (TypeError, ValueError) as exc:
            p.error(str(exc))
    train = read_split(DataHome.resolve(a.data_home).split_path("train"))  # never the test split
    a.out.mkdir(parents=True, exist_ok=True)
    for variant in variants:
        for seed in a.seeds:
            path = a.out / f"{a.architecture}__{variant_name(variant)}__seed{seed}.json"
            if path.exists():
                print(f"{path.name}: reused", flush=True)
                continue
            t0 = time.perf_counter()
            record = run_variant(a.architecture, variant, seed, train, a.epochs)
            write_text(path, json.dumps(record))
            print(
                f"{path.name}: last val acc {100 * record['val_accuracy'][-1]:.2f} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    records = [json.loads(f.read_text()) for f in sorted(a.out.glob(f"{a.architecture}__*.json"))]
    print("\n".join(summarize(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
