"""Helpers for the ``har`` command-line tests: run it in-process as a user would, and make
real checkpoints and inputs quickly."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from data_contracts.dataset import CHANNELS, ROOT_DIR, SAMPLE_RATE_HZ, labels_member
from har_cli.app import main
from har_models.checkpoint import save_checkpoint
from har_models.registry import build_model
from har_models.training import fit


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def har(capsys: pytest.CaptureFixture[str], *argv: object) -> Result:
    """``har ARGV...`` in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def assert_one_error_line(result: Result, code: int, *fragments: str) -> None:
    """Failed with ``code`` and exactly one ``har: error:`` line naming every fragment."""
    assert result.code == code, result
    lines = result.error_lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("har: error: "), lines
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def untrained_checkpoint(
    path: Path,
    architecture: str,
    fit_on: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    hparams: dict[str, object] | None = None,
) -> Path:
    """A checkpoint of a freshly initialised model, its standardization fitted on ``fit_on``
    if given: enough where a test is about inputs, outputs or export parity. A closed-form
    family (no epochs, e.g. MiniRocket) is fitted on ``fit_on``/``labels``, since its
    unfitted weights are all zero."""
    torch.manual_seed(0)
    model = build_model(architecture, hparams)
    if fit_on is not None and model.closed_form and labels is not None:
        model = fit(architecture, fit_on, labels, seed=0, device="cpu", hparams=hparams).model
    elif fit_on is not None:
        model.norm.fit(torch.as_tensor(fit_on))
    return save_checkpoint(model, path, data_sha256="0" * 64)


def readings_csv(path: Path, readings: np.ndarray, extra_columns: bool = True) -> Path:
    """Raw readings (rows, 9) as a CSV with one named column per channel (and a time column)."""
    df = pd.DataFrame(readings, columns=list(CHANNELS))
    if extra_columns:
        df.insert(0, "time_s", np.arange(len(df)) / SAMPLE_RATE_HZ)
    df.to_csv(path, index=False)
    return path


def extract_split(archive: Path, split: str, dest: Path) -> Path:
    """The split folder (``UCI HAR Dataset/<split>``: its signals and labels) of an archive."""
    signals = f"{ROOT_DIR}/{split}/Inertial Signals/"
    with zipfile.ZipFile(archive) as z:
        members = [m for m in z.namelist() if m.startswith(signals) or m == labels_member(split)]
        z.extractall(dest, members=members)
    return dest / ROOT_DIR / split
