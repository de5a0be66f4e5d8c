"""Run tables anyone can check: ``benchmarks/results/<study-id>.csv``, one row per run.

Every figure BENCHMARKS.md quotes comes from such a table (committed; the study folders
themselves hold data-derived checkpoints and are not). Accuracy and macro-F1 are in
percent. A table in BENCHMARKS.md that quotes a study is preceded by a marker line
``<!-- results: STUDY_ID [STUDY_ID ...] -->``; ``tests/test_results_tables.py`` checks that its
means, standard deviations and run counts match the files.

    .venv/bin/python -m benchmarks.results export STUDY_ID [--data-home DIR]
    .venv/bin/python -m benchmarks.results table STUDY_ID [STUDY_ID ...]
    .venv/bin/python -m benchmarks.results refresh   # every marked table of BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from har_data.atomic import atomic_path
from har_data.layout import DataHome, StudyLayout
from har_models.results import load_records

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = [
    "study_id", "architecture", "repeat", "seed", "protocol", "device", "accuracy",
    "macro_f1", "epochs", "best_epoch", "seconds", "n_params", "data_sha256", "code_version",
]  # fmt: skip
MARKER = "<!-- results:"


def run_table(study: StudyLayout) -> pd.DataFrame:
    """The completed runs of a study as the committed table's rows."""
    rows = [
        {
            "study_id": r.study_id,
            "architecture": r.architecture,
            "repeat": r.repeat,
            "seed": r.seed,
            "protocol": r.protocol,
            "device": r.device,
            "accuracy": round(100 * r.accuracy, 4),
            "macro_f1": round(100 * r.macro_f1, 4),
            "epochs": r.epochs,
            "best_epoch": r.best_epoch,
            "seconds": round(r.wall_time_s, 2),
            "n_params": r.n_params,
            "data_sha256": r.data_sha256,
            "code_version": r.version,
        }
        for r in load_records(study)
        if r.status == "completed"
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["architecture", "repeat"], kind="stable").reset_index(drop=True)


def export(study: StudyLayout, directory: Path = RESULTS_DIR) -> Path:
    path = directory / f"{study.study_id}.csv"
    with atomic_path(path) as tmp:
        run_table(study).to_csv(tmp, index=False)
    return path


def read_table(study_id: str, directory: Path = RESULTS_DIR) -> pd.DataFrame:
    path = directory / f"{study_id}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no run table {path}")
    return pd.read_csv(path)


def device_kind(device: str) -> str:
    """``cuda:NVIDIA H200`` -> ``NVIDIA H200``, ``cpu:x86_64x1`` -> ``cpu``: seconds per run
    are only comparable within one kind."""
    kind, _, name = str(device).partition(":")
    return name if kind == "cuda" and name else kind


def summary(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per (architecture, protocol): runs, accuracy and macro-F1 mean and std (%), and the
    devices the runs trained on."""
    runs = pd.concat(tables, ignore_index=True)
    grouped = runs.groupby(["architecture", "protocol"], sort=False)
    out = grouped.agg(
        runs=("accuracy", "size"),
        accuracy_mean=("accuracy", "mean"),
        accuracy_std=("accuracy", "std"),
        macro_f1_mean=("macro_f1", "mean"),
        macro_f1_std=("macro_f1", "std"),
        seconds_mean=("seconds", "mean"),
        n_params=("n_params", "first"),
        device=("device", lambda d: ", ".join(sorted({device_kind(x) for x in d}))),
    )
    return out.reset_index().sort_values("accuracy_mean", ascending=False, kind="stable")


def markdown(study_ids: list[str], directory: Path = RESULTS_DIR) -> str:
    """A BENCHMARKS.md table (with its marker line) of the named studies, best first."""
    table = summary([read_table(s, directory) for s in study_ids])
    lines = [
        f"{MARKER} {' '.join(study_ids)} -->",
        "| architecture | protocol | runs | accuracy % (mean ± std) | macro-F1 % (mean ± std) "
        "| s / run | params | device |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.architecture} | {r.protocol} | {r.runs} | {r.accuracy_mean:.2f} ± "
            f"{r.accuracy_std:.2f} | {r.macro_f1_mean:.2f} ± {r.macro_f1_std:.2f} | "
            f"{r.seconds_mean:.0f} | {r.n_params:,} | {r.device} |"
        )
    return "\n".join(lines)


def refresh(path: Path) -> int:
    """Regenerate every marked table of a Markdown file from the run tables; returns how many."""
    lines, out, count, i = path.read_text().splitlines(), [], 0, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(MARKER):
            ids = line.removeprefix(MARKER).removesuffix("-->").split()
            out.extend(markdown(ids).splitlines())
            i += 1
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            count += 1
            continue
        out.append(line)
        i += 1
    text = "\n".join(out) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return count


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write benchmarks/results/<study-id>.csv from the records")
    e.add_argument("study_id")
    e.add_argument("--data-home", default=None)
    t = sub.add_parser("table", help="print a BENCHMARKS.md table of committed run tables")
    t.add_argument("study_ids", nargs="+")
    r = sub.add_parser("refresh", help="regenerate every marked table of BENCHMARKS.md")
    r.add_argument("path", nargs="?", type=Path, default=RESULTS_DIR.parents[1] / "BENCHMARKS.md")
    a = p.parse_args(argv)
    if a.command == "export":
        print(export(DataHome.resolve(a.data_home).study(a.study_id)))
    elif a.command == "table":
        print(markdown(a.study_ids))
    else:
        print(f"{refresh(a.path)} tables refreshed in {a.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
