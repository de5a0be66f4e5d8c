"""What a report says about how its numbers were made (recipes, overrides, versions, hardware,
time, checkpoints), when it compares with an earlier study, and who may read its files."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from har_data.layout import DataHome
from har_models.registry import get_spec
from har_models.results import load_records, rebuild_metrics, save_record
from har_reports.compare import pick_previous
from har_reports.content import build_report
from har_reports.render import render_markdown
from har_reports.sample import make_sample_study
from tasks.report import write_report

ACCS = {"lstm": [0.90, 0.91, 0.905], "cnn_lstm": [0.92, 0.915, 0.925]}
NOW = "2026-11-23T03:40:00+00:00"


def stamp(home: DataHome, study_id: str, epochs: int | None = None) -> pd.DataFrame:
    """Give a sample study's records the provenance a real run records."""
    study = home.study(study_id)
    for i, record in enumerate(load_records(study)):
        recipe = get_spec(record.architecture).recipe.with_overrides(epochs=epochs)
        record.recipe = json.dumps(recipe.as_dict(), sort_keys=True)
        record.overrides = json.dumps({"epochs": epochs} if epochs else {})
        record.torch_version = "2.13.0+cpu"
        record.hardware = "Test CPU, 2 cores"
        record.checkpoint_path = study.checkpoint_rel(record.run_id)
        record.started_at = f"2026-11-23T03:{i:02d}:00+00:00"
        record.finished_at = f"2026-11-23T03:{i + 10:02d}:00+00:00"
        save_record(record, study)
    return pd.read_parquet(rebuild_metrics(study))


@pytest.fixture
def home(tmp_path: Path) -> DataHome:
    return DataHome.resolve(tmp_path)


def test_headline_states_every_recipe_versions_hardware_and_time(home: DataHome) -> None:
    make_sample_study(home.study_dir("full"), ACCS)
    content = build_report("full", stamp(home, "full"), {}, None, NOW)
    headline = "\n".join(content.headline)
    assert "OVERRIDDEN" not in headline
    assert "LSTM: 15 epochs, batch 64, Adam lr 0.001" in headline
    assert "CNN-LSTM: 25 epochs, batch 64" in headline
    assert "torch 2.13.0+cpu" in headline and "Test CPU, 2 cores" in headline
    assert "Code sample" in headline  # the records' code version
    # 6 runs started at :00..:05 and finished at :10..:15: the study took 15 minutes.
    assert "study wall time 15.0 min" in headline
    md = render_markdown(content)
    assert "runs/full/checkpoints/lstm-r00.pt" in md
    provenance = content.tables["provenance"].set_index("architecture")
    assert provenance.loc["lstm", "overrides"] == "none"


def test_an_override_is_in_the_headline(home: DataHome) -> None:
    make_sample_study(home.study_dir("quick"), ACCS)
    content = build_report("quick", stamp(home, "quick", epochs=1), {}, None, NOW)
    assert content.headline[1].startswith("OVERRIDDEN RECIPE: epochs=1 for every architecture.")
    assert "LSTM: 1 epochs" in content.headline[2]


def test_only_matching_recipes_are_compared_and_a_skip_is_said(home: DataHome) -> None:
    make_sample_study(home.study_dir("weekly"), ACCS)
    before = build_report("weekly", stamp(home, "weekly"), {}, None, NOW).summary
    worse = {"lstm": [0.50, 0.52, 0.51], "cnn_lstm": [0.55, 0.56, 0.57]}
    make_sample_study(home.study_dir("quick"), worse, seed=1)
    quick = build_report("quick", stamp(home, "quick", epochs=1), {}, before, NOW)
    assert quick.warnings == []  # 40 points lower, but trained 1 epoch instead of 15/25
    notes = " ".join(quick.notes)
    assert "Not compared with study weekly (same data): not compared: recipe differs" in notes
    assert (
        "epochs 1 vs 15" in quick.tables["previous"].set_index("architecture").loc["lstm", "note"]
    )

    # The next scheduled study skips the quick one and compares with last week's.
    later = {**quick.summary, "generated_at": "2026-11-23T09:00:00+00:00"}
    make_sample_study(home.study_dir("next"), {**ACCS, "lstm": [0.80, 0.81, 0.80]}, seed=2)
    metrics = stamp(home, "next")
    recipes_now = json.loads(json.dumps(before["recipes"]))
    previous = pick_previous([before, later], "next", before["data_sha256"], recipes_now,
                             "published")  # fmt: skip
    assert previous is not None and previous["study_id"] == "weekly"
    report = build_report("next", metrics, {}, previous, NOW)
    assert report.warnings and report.warnings[0].startswith("LSTM got worse than study weekly")


def test_confused_pairs_are_ranked_per_architecture(home: DataHome) -> None:
    make_sample_study(home.study_dir("pairs"), ACCS)
    table = build_report("pairs", stamp(home, "pairs"), {}, None, NOW).tables["confused_pairs"]
    for arch in ACCS:
        mine = table[table["architecture"] == arch]
        assert list(mine["rank"]) == [1, 2, 3]
        assert mine["errors_per_run"].is_monotonic_decreasing
    assert list(table.columns[:2]) == ["architecture", "rank"]


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_report_files_are_readable_by_others_as_the_umask_allows(
    home: DataHome, umask: None
) -> None:
    make_sample_study(home.study_dir("perm"), ACCS)
    content = build_report("perm", stamp(home, "perm"), {}, None, NOW)
    report_dir = Path(write_report.fn(content, str(home.report_dir("perm"))))
    modes = {p.relative_to(report_dir).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in [report_dir, *report_dir.rglob("*")]}  # fmt: skip
    assert modes["."] == 0o755 and modes["figures"] == 0o755
    assert {m for name, m in modes.items() if name not in (".", "figures")} == {0o644}

    os.umask(0o077)  # a private umask keeps them private
    private = Path(write_report.fn(content, str(home.report_dir("private"))))
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert stat.S_IMODE((private / "report.html").stat().st_mode) == 0o600
