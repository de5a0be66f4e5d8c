"""Accuracy benchmark: N repeats per architecture on real data, ``published`` protocol by default.

    .venv/bin/python -m benchmarks.accuracy --repeats 10 --architectures lstm cnn_lstm
    .venv/bin/python -m benchmarks.accuracy --epochs 1 --repeats 1   # seconds per epoch only
    .venv/bin/python -m benchmarks.accuracy --architectures stacked_lstm --recipe shuffle=true \
        --study-id stacked-shuffled --device cuda   # a recipe variant, in its own study
    .venv/bin/python -m benchmarks.accuracy --protocol validated --study-id val-1   # epochs chosen on subjects

Runs the same plain function as the training flow's task (no Prefect), writes the study
under ``<data home>/runs/<study-id>/`` and prints mean +- std, min, max of test accuracy
beside the published figures, plus seconds per epoch on this machine. Results are printed
as each architecture finishes, so a long run's log holds whatever completed.

``--recipe`` trains a variant of the default recipe (``Recipe`` fields, as in
``benchmarks.validation``'s ``--variant``): choose variants there, on validation subjects, and
give each variant its own ``--study-id``, since records are reused by run id.
``--protocol validated`` chooses the epoch count on whole held-out training subjects (three
folds, chosen by the seed) and refits on all of them for that count
(``har_models.run.fit_validated``); the test split is still only scored at the end. Give it
its own ``--study-id`` too.

Several processes may share one ``--study-id`` (e.g. ``--first-repeat 5``): a repeat whose
record already exists is reused, not retrained, and the metrics and summaries cover every
record in the study folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from benchmarks.results import RESULTS_DIR, export
from benchmarks.validation import RECIPE_FIELDS, parse_variant, split_variant
from har_models.protocol import DEFAULT_PROTOCOL, PROTOCOLS
from har_models.registry import ARCHITECTURES, get_spec
from har_models.results import RunRecord, find_record, load_records, rebuild_metrics, run_id
from har_models.run import RunParams, resolve_training_data, train_one_run
from har_models.study import DEFAULT_REPEATS, default_study_id, seed_of
from har_reports.published import PUBLISHED


def summarize(name: str, records: list[RunRecord]) -> str:
    acc = [100 * r.accuracy for r in records if r.status == "completed"]
    spe = [r.seconds_per_epoch for r in records if r.status == "completed"]
    pub = PUBLISHED.get(name)
    done = [r for r in records if r.status == "completed"]
    target = pub.target(done[0].protocol) if pub and done else None
    if pub is None:
        pub_text = "none"
    else:
        pub_text = f"{pub.mean:.2f}" + (f" +- {pub.std:.1f}" if pub.std is not None else " (1 run)")
    std = statistics.stdev(acc) if len(acc) > 1 else float("nan")
    if target is None:
        target_text = "no target"
    else:
        verdict = "meets" if acc and statistics.fmean(acc) >= target else "below"
        target_text = f"target >= {target:.2f}: {verdict}"
    epochs = statistics.fmean(r.epochs for r in done)
    best = statistics.fmean(r.best_epoch for r in done)
    return (
        f"{name:13s} n={len(acc):2d} acc {statistics.fmean(acc):6.2f} +- {std:4.2f} "
        f"[min {min(acc):6.2f} max {max(acc):6.2f}]  published {pub_text:14s} "
        f"{target_text}  s/epoch {statistics.fmean(spe):7.2f}  "
        f"epochs {epochs:.0f}"
        + (f" (best {best:.0f})" if best != epochs else "")
        + f"  {done[0].protocol}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--architectures", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES)
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    p.add_argument("--repeats-stacked", type=int, default=None, help="repeats for stacked_lstm")
    p.add_argument(
        "--first-repeat",
        type=int,
        default=0,
        help="first repeat (= seed): split a study over processes",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the recipes' epochs")
    p.add_argument("--protocol", choices=PROTOCOLS, default=DEFAULT_PROTOCOL)
    p.add_argument("--device", default="auto")
    p.add_argument("--data-home", default=None)
    p.add_argument("--study-id", default=None)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    p.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where the run table <study-id>.csv goes (default: benchmarks/results)",
    )
    p.add_argument(
        "--recipe",
        type=parse_variant,
        default={},
        help="recipe overrides, e.g. shuffle=true,standardize=true",
    )
    a = p.parse_args(argv)
    if a.repeats < 1:
        p.error("--repeats must be >= 1")
    if unknown := sorted(set(a.recipe) - RECIPE_FIELDS):
        p.error(f"--recipe: unknown field(s) {', '.join(unknown)}; valid: {sorted(RECIPE_FIELDS)}")
    for name in a.architectures:  # wrong value types fail before any training
        try:
            split_variant(name, a.recipe, a.epochs)
        except ValueError as exc:
            p.error(str(exc).replace("--variant", "--recipe"))
    home, data_sha256 = resolve_training_data(a.data_home)
    study_id = a.study_id or default_study_id("bench-")
    study = home.study(study_id)
    print(
        f"# accuracy benchmark {study_id}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cpus, torch {torch.__version__}, load {os.getloadavg()[0]:.2f}, "
        f"data {data_sha256[:12]}",
        flush=True,
    )
    summaries = []
    for name in a.architectures:
        n = a.repeats_stacked if name == "stacked_lstm" and a.repeats_stacked else a.repeats
        recipe = get_spec(name).recipe.with_overrides(epochs=a.epochs, **a.recipe)
        print(
            f"## {name}: {n} repeats x {recipe.epochs} epochs, batch {recipe.batch_size}"
            + (f", recipe overrides {a.recipe}" if a.recipe else ""),
            flush=True,
        )
        for repeat in range(a.first_repeat, a.first_repeat + n):
            rid = run_id(name, repeat)
            r = find_record(study, rid)
            if r is not None:
                if r.protocol != a.protocol:
                    p.error(
                        f"study {study_id} already holds {rid} trained with the {r.protocol} "
                        f"protocol: give the {a.protocol} runs their own --study-id"
                    )
                print(f"  {rid}: acc {100 * r.accuracy:.2f} (reused record)", flush=True)
                continue
            t0 = time.perf_counter()
            r = train_one_run(
                RunParams(
                    study_id=study_id, architecture=name, repeat=repeat, seed=seed_of(repeat),
                    protocol=a.protocol, data_home=str(home.root), data_sha256=data_sha256,
                    epochs=a.epochs, device=a.device, threads=a.threads,
                    recipe_overrides=a.recipe,
                )
            )  # fmt: skip
            rebuild_metrics(study)
            print(
                f"  {r.run_id}: acc {100 * r.accuracy:.2f} macro-F1 {100 * r.macro_f1:.2f} "
                f"s/epoch {r.seconds_per_epoch:.2f} epochs {r.epochs} (best {r.best_epoch}) "
                f"wall {time.perf_counter() - t0:.0f}s "
                f"({r.device}, load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        print(f"# run table: {export(study, a.results_dir)}", flush=True)
        records = [r for r in load_records(study) if r.architecture == name]
        summaries.append(summarize(name, records))
        print(summaries[-1], flush=True)
    print(f"# summary (test accuracy %, {a.protocol} protocol)")
    print("\n".join(summaries))
    print(f"# metrics: {study.metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
