"""benchmarks/per_subject.py re-scores a study's checkpoints per test subject, read-only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from benchmarks.per_subject import main
from har_models.data import read_split
from har_models.results import load_record, save_record
from har_models.run import train_one_run
from tests.synthetic_tensors import run_params, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_rescores_checkpoints_per_subject_and_leaves_out_mismatches(tmp_path: Path, capsys) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    study = home.study_dir("old")
    for repeat in (0, 1):
        train_one_run(run_params(home, study_id="old", repeat=repeat, seed=repeat))
    # Make the records look like ones written before per-subject accuracy was recorded.
    records = [load_record(study, f"lstm-r0{k}") for k in (0, 1)]
    for r in records:
        save_record(dataclasses.replace(r, test_subjects=[], per_subject_accuracy=[]), study)
    before = {p: p.read_bytes() for p in study.rglob("*") if p.is_file()}

    assert main(["old", "--data-home", str(home.root)]) == 0
    out = capsys.readouterr().out.splitlines()
    subjects = np.unique(read_split(home.split_path("test")).subject).tolist()
    assert out[0] == "| architecture | runs | " + " | ".join(f"S{s}" for s in subjects) + " |"
    assert out[2].startswith("| lstm | 2 | ")
    values = [float(v) for v in out[2].strip("| ").split(" | ")[2:]]
    expected = np.mean([r.per_subject_accuracy for r in records], axis=0) * 100
    assert values == pytest.approx(expected.tolist(), abs=0.05)
    assert {p: p.read_bytes() for p in study.rglob("*") if p.is_file()} == before  # read-only

    # A record its checkpoint no longer reproduces is reported and left out.
    save_record(dataclasses.replace(records[1], accuracy=records[1].accuracy + 0.01), study)
    assert main(["old", "--data-home", str(home.root)]) == 0
    captured = capsys.readouterr()
    assert "lstm-r01: checkpoint scores" in captured.err and "left out" in captured.err
    assert "| lstm | 1 | " in captured.out
