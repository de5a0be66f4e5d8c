"""Figures anyone can check: the committed run tables and the BENCHMARKS.md tables that quote them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.results import COLUMNS, MARKER, RESULTS_DIR, read_table, summary

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
ROW = re.compile(r"^\| (\S+) \| (\S+) \| (\d+) \| ([\d.]+) ± ([\d.]+) \| ([\d.]+) ± ([\d.]+) \|")


def quoted_tables() -> list[tuple[list[str], list[str]]]:
    """(study ids, table lines) for every marked table in BENCHMARKS.md."""
    lines = BENCHMARKS_MD.read_text().splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith(MARKER):
            ids = line.removeprefix(MARKER).removesuffix("-->").split()
            table = []
            for row in lines[i + 1 :]:
                if not row.startswith("|"):
                    break
                table.append(row)
            found.append((ids, table))
    return found


def test_every_run_table_has_exactly_the_agreed_columns() -> None:
    tables = sorted(RESULTS_DIR.glob("*.csv"))
    assert tables, "no run tables committed under benchmarks/results/"
    for path in tables:
        df = pd.read_csv(path)
        assert list(df.columns) == COLUMNS, path.name
        assert len(df) and df["study_id"].eq(path.stem).all(), path.name
        assert df["accuracy"].between(0, 100).all() and df["macro_f1"].between(0, 100).all()


def test_benchmarks_md_quotes_the_run_tables_exactly() -> None:
    quoted = quoted_tables()
    assert quoted, "BENCHMARKS.md quotes no run table"
    for ids, table in quoted:
        expected = summary([read_table(s) for s in ids]).set_index(["architecture", "protocol"])
        rows = [m.groups() for m in map(ROW.match, table) if m]
        assert len(rows) == len(expected), f"{ids}: {len(rows)} rows for {len(expected)}"
        for arch, protocol, runs, acc, acc_sd, f1, f1_sd in rows:
            e = expected.loc[(arch, protocol)]
            assert int(runs) == e.runs, (ids, arch)
            assert float(acc) == pytest.approx(round(e.accuracy_mean, 2), abs=0.005), (ids, arch)
            assert float(acc_sd) == pytest.approx(round(e.accuracy_std, 2), abs=0.005), (ids, arch)
            assert float(f1) == pytest.approx(round(e.macro_f1_mean, 2), abs=0.005), (ids, arch)
            assert float(f1_sd) == pytest.approx(round(e.macro_f1_std, 2), abs=0.005), (ids, arch)
