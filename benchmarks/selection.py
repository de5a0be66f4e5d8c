"""Which epoch-selection rule to use, decided on training subjects only.

    .venv/bin/python -m benchmarks.selection lstm cnn_lstm convlstm --seeds 0 1 2 3 4 \\
        --threads 1 --data-home /tmp/har-home --out /tmp/selection

For each (architecture, seed): hold out 8 of the 21 training subjects (chosen by the seed),
split them into halves A and B, and train on the other 13 for ``--factor`` x the recipe's
epochs, scoring every epoch on A and on B. A rule then picks an epoch on A and is scored by
B's accuracy at that epoch, and the other way round: the score of a rule never comes from
the windows it chose on. The test split is never read. One JSON per (architecture, seed) in
``--out``; existing ones are reused. The summary prints, per architecture and search range
(up to the recipe's epochs, or up to ``--factor`` times them), each rule's mean cross-fitted
accuracy and the mean epoch it picks, read on one curve and on the mean of the seeds' curves
(how ``validated`` averages its folds).
"""

from __future__ import annotations

import argparse
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
from har_models.data import Split, read_split
from har_models.losses import loss_function
from har_models.registry import ARCHITECTURES, get_spec
from har_models.selection import OWN_WEIGHTS_RULES as RULES
from har_models.selection import select_epoch
from har_models.training import EpochReport, fit

N_HELD_OUT = 8


def halves(subjects: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    held = np.random.default_rng(seed).choice(np.unique(subjects), N_HELD_OUT, replace=False)
    return np.sort(held[: N_HELD_OUT // 2]), np.sort(held[N_HELD_OUT // 2 :])


def run(architecture: str, seed: int, train: Split, factor: float) -> dict[str, object]:
    recipe = get_spec(architecture).recipe
    a_subjects, b_subjects = halves(train.subject, seed)
    in_a, in_b = np.isin(train.subject, a_subjects), np.isin(train.subject, b_subjects)
    fit_set = train.subset(~(in_a | in_b))
    val = train.subset(in_a | in_b)
    is_a = torch.from_numpy(np.isin(val.subject, a_subjects))
    yv = torch.as_tensor(val.y, dtype=torch.int64)
    loss_fn = loss_function(recipe.loss)
    curves: dict[str, list[float]] = {k: [] for k in ("loss_a", "acc_a", "loss_b", "acc_b")}

    @torch.inference_mode()
    def on_epoch(report: EpochReport) -> None:
        report.model.eval()
        xv = torch.as_tensor(val.x)
        logits = torch.cat([report.model(xv[i : i + 1024]) for i in range(0, len(xv), 1024)])
        losses = loss_fn(logits, yv, reduction="none")
        right = (logits.argmax(1) == yv).float()
        for half, mask in (("a", is_a), ("b", ~is_a)):
            curves[f"loss_{half}"].append(float(losses[mask].mean()))
            curves[f"acc_{half}"].append(float(right[mask].mean()))

    epochs = round(factor * recipe.epochs)
    t0 = time.perf_counter()
    fit(
        architecture, fit_set.x, fit_set.y, seed=seed, device="cpu",
        recipe=recipe.with_overrides(epochs=epochs), on_epoch=on_epoch,
    )  # fmt: skip
    return {
        "architecture": architecture,
        "seed": seed,
        "recipe_epochs": recipe.epochs,
        "epochs": epochs,
        "a_subjects": a_subjects.tolist(),
        "b_subjects": b_subjects.tolist(),
        "fit_windows": len(fit_set),
        "seconds": time.perf_counter() - t0,
        **curves,
    }


def cross_fitted(record: dict, rule: str, max_epochs: int) -> tuple[float, float]:
    """(mean accuracy on the other half at the chosen epoch, mean chosen epoch)."""
    scores, chosen = [], []
    for pick, score in (("a", "b"), ("b", "a")):
        loss = np.asarray(record[f"loss_{pick}"][:max_epochs])
        acc = np.asarray(record[f"acc_{pick}"][:max_epochs])
        epoch = select_epoch(loss, acc, rule)
        scores.append(record[f"acc_{score}"][epoch - 1])
        chosen.append(epoch)
    return statistics.fmean(scores), statistics.fmean(chosen)


def pooled_cross_fitted(records: list[dict], rule: str, max_epochs: int) -> tuple[float, float]:
    """Like :func:`cross_fitted`, but the rule reads the mean of every record's curve on the
    picking half (one architecture, several seeds: what averaging folds' curves does) and is
    scored on each record's other half, which no picking curve contains."""
    scores: list[float] = []
    chosen: list[int] = []
    for pick, score in (("a", "b"), ("b", "a")):
        loss = np.mean([r[f"loss_{pick}"][:max_epochs] for r in records], axis=0)
        acc = np.mean([r[f"acc_{pick}"][:max_epochs] for r in records], axis=0)
        epoch = select_epoch(loss, acc, rule)
        scores.extend(r[f"acc_{score}"][epoch - 1] for r in records)
        chosen.append(epoch)
    return statistics.fmean(scores), statistics.fmean(chosen)


def table(records: list[dict]) -> pd.DataFrame:
    """One row per (architecture, seed, search range, rule): the cross-fitted accuracy (%)
    and the mean epoch the rule picked; committed as benchmarks/validation/selection-rules.csv."""
    rows = []
    for r in records:
        for max_epochs in sorted({r["recipe_epochs"], r["epochs"]}):
            for rule in RULES:
                acc, epoch = cross_fitted(r, rule, max_epochs)
                rows.append(
                    {
                        "architecture": r["architecture"],
                        "seed": r["seed"],
                        "max_epochs": max_epochs,
                        "rule": rule,
                        "cross_fitted_val_accuracy": round(100 * acc, 4),
                        "mean_epoch": epoch,
                        "held_out_subjects": " ".join(map(str, r["a_subjects"] + r["b_subjects"])),
                    }
                )
    return pd.DataFrame(rows)


def summarize(records: list[dict]) -> list[str]:
    lines = [
        "| architecture | search range | rule | runs | cross-fitted val acc (%) | mean epoch |"
    ]
    lines.append("|---|---|---|---:|---:|---:|")
    for arch in sorted({r["architecture"] for r in records}):
        mine = [r for r in records if r["architecture"] == arch]
        ranges = sorted({mine[0]["recipe_epochs"], min(r["epochs"] for r in mine)})
        for max_epochs in ranges:
            for rule in RULES:
                pairs = [cross_fitted(r, rule, max_epochs) for r in mine]
                acc = statistics.fmean(p[0] for p in pairs)
                ep = statistics.fmean(p[1] for p in pairs)
                lines.append(
                    f"| {arch} | 1-{max_epochs} | {rule} | {len(mine)} | {100 * acc:.2f} | {ep:.1f} |"
                )
            if len(mine) > 1:  # the same rules on the mean of the seeds' curves
                for rule in RULES:
                    acc, ep = pooled_cross_fitted(mine, rule, max_epochs)
                    lines.append(
                        f"| {arch} | 1-{max_epochs} | {rule}, mean of {len(mine)} curves "
                        f"| {len(mine)} | {100 * acc:.2f} | {ep:.1f} |"
                    )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("architectures", nargs="+", choices=ARCHITECTURES)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--factor", type=float, default=2.0, help="epochs = factor x the recipe's")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-home", default=None)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--csv", type=Path, default=None, help="also write the per-seed table here")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    train = read_split(DataHome.resolve(a.data_home).split_path("train"))  # never the test split
    a.out.mkdir(parents=True, exist_ok=True)
    for arch in a.architectures:
        for seed in a.seeds:
            path = a.out / f"{arch}__seed{seed}.json"
            if path.exists():
                continue
            record = run(arch, seed, train, a.factor)
            write_text(path, json.dumps(record))
            print(f"{path.name}: {record['seconds']:.0f} s", flush=True)
    records = [json.loads(f.read_text()) for f in sorted(a.out.glob("*.json"))]
    mine = [r for r in records if r["architecture"] in a.architectures]
    print("\n".join(summarize(mine)))
    if a.csv:
        table(mine).to_csv(a.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
