"""Per-subject test accuracy of a finished study, re-scored from its checkpoints.

    .venv/bin/python -m benchmarks.per_subject bench-1123 --data-home /tmp/w3/har-home

Runs trained before records held per-subject accuracy still have their checkpoints: this
predicts the test split once per checkpoint (nothing is trained or selected) and prints the
mean accuracy of each test subject per architecture, the table the report shows for newer
studies. It also checks each re-scored accuracy against the record, so a checkpoint that no
longer reproduces its run is reported instead of silently mixed in. Nothing is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import torch

from har_data.layout import DataHome
from har_models.checkpoint import load_checkpoint
from har_models.data import read_split
from har_models.metrics import score
from har_models.results import load_records, records_frame
from har_reports import stats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("study_id")
    p.add_argument("--data-home", default=None)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    home = DataHome.resolve(a.data_home)
    study = home.study(a.study_id)
    records = [r for r in load_records(study) if r.status == "completed"]
    if not records:
        p.error(f"no completed run records under {study.records}")
    test = read_split(home.split_path("test"))
    rescored = []
    for r in records:
        pred = load_checkpoint(study.root / r.checkpoint_path).predict(test.x)
        s = score(test.y, pred, test.subject)
        if abs(s.accuracy - r.accuracy) > 1e-9:
            print(
                f"{r.run_id}: checkpoint scores {100 * s.accuracy:.2f} %, record says "
                f"{100 * r.accuracy:.2f} %: left out",
                file=sys.stderr,
            )
            continue
        rescored.append(
            dataclasses.replace(
                r, test_subjects=s.subjects, per_subject_accuracy=s.per_subject_accuracy
            )
        )
    table = stats.per_subject_accuracy(records_frame(rescored))
    if table.empty:
        print("no checkpoint reproduced its record", file=sys.stderr)
        return 1
    subjects = [c for c in table.columns if c.startswith("subject_")]
    print(
        "| architecture | runs | " + " | ".join(c.replace("subject_", "S") for c in subjects) + " |"
    )
    print("|---|---:|" + "---:|" * len(subjects))
    for row in table.itertuples(index=False):
        values = " | ".join(f"{getattr(row, c):.1f}" for c in subjects)
        print(f"| {row.architecture} | {row.runs} | {values} |")
    worst = stats.hardest_subject(table)
    if worst:
        print(f"hardest test subject: {worst[0]} ({worst[1]:.1f} % mean over architectures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
