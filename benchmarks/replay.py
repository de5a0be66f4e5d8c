"""Replay one row of a committed run table: train it again and compare its test accuracy.

    .venv/bin/python -m benchmarks.replay minirocket-validated 0 --data-home /tmp/har-home

A MiniRocket-family row replays within 0.05 points on any CPU (its fit is seeded numpy and
float arithmetic with exact counts). A deep model trained at one thread replays exactly on
the same CPU model; another CPU model may pick other kernels and land elsewhere in the
study's spread. Prints both accuracies; exit 1 when they differ by more than ``--tolerance``.
"""

from __future__ import annotations

import argparse
import sys

import torch

from benchmarks.results import read_table
from har_data.layout import DataHome
from har_models.data import read_split
from har_models.registry import get_spec
from har_models.run import RunParams, fit_validated
from har_models.training import evaluate, fit


def replay(
    study_id: str, repeat: int, data_home: str | None, architecture: str | None
) -> tuple[float, float]:
    """(accuracy in the table, accuracy now), percent."""
    rows = read_table(study_id)
    rows = rows[rows["repeat"] == repeat]
    if architecture:
        rows = rows[rows["architecture"] == architecture]
    if len(rows) != 1:
        raise ValueError(f"{study_id}: {len(rows)} rows for repeat {repeat}; name --architecture")
    row = rows.iloc[0]
    home = DataHome.resolve(data_home)
    train, test = read_split(home.split_path("train")), read_split(home.split_path("test"))
    arch, seed = str(row["architecture"]), int(row["seed"])
    if row["protocol"] == "validated":
        params = RunParams(
            study_id=study_id, architecture=arch, repeat=repeat, seed=seed,
            protocol="validated", data_home=str(home.root), data_sha256="",
        )  # fmt: skip
        result, _ = fit_validated(params, params.recipe(), train)
    else:
        recipe = get_spec(arch).recipe.with_overrides(epochs=int(row["epochs"]))
        result = fit(arch, train.x, train.y, seed=seed, recipe=recipe)
    scores, _ = evaluate(result.model, test.x, test.y)
    return float(row["accuracy"]), 100 * scores.accuracy


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("study_id")
    p.add_argument("repeat", type=int)
    p.add_argument("--architecture", default=None)
    p.add_argument("--data-home", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tolerance", type=float, default=0.05, help="points")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    recorded, now = replay(a.study_id, a.repeat, a.data_home, a.architecture)
    print(f"{a.study_id} repeat {a.repeat}: table {recorded:.4f} %, replayed {now:.4f} %")
    return 0 if abs(recorded - now) <= a.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
