"""The validation study (benchmarks/validation.py) chooses between variants without the
test split: it runs with no test file at all."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks.validation import main, parse_variant, split_variant
from tests.synthetic_tensors import write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_variants_scored_on_training_subjects_only(tmp_path: Path, capsys) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    home.split_path("test").unlink()  # any read of the test split would now fail
    out = tmp_path / "study"
    argv = ["stacked_lstm", "--variant", "init=keras", "--variant", "init=tf_original"]
    argv += ["--seeds", "0", "--epochs", "2", "--data-home", str(home.root), "--out", str(out)]
    assert main(argv) == 0
    records = {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert set(records) == {
        "stacked_lstm__init=keras__seed0.json",
        "stacked_lstm__init=tf_original__seed0.json",
    }
    for r in records.values():
        assert len(r["val_accuracy"]) == 2 and r["n_val"] > 0
        assert len(r["validation_subjects"]) == 1  # one of the 4 training subjects
    table = capsys.readouterr().out
    assert "| init=keras | 0 |" in table and "| init=tf_original | 0 |" in table
    assert main(argv) == 0  # a second call reuses the records
    assert "reused" in capsys.readouterr().out


def test_parse_variant() -> None:
    assert parse_variant("init=tf_original,hidden=64") == {"init": "tf_original", "hidden": 64}
    with pytest.raises(argparse.ArgumentTypeError, match="expected key=value"):
        parse_variant("init")


def test_recipe_fields_in_a_variant_go_to_the_recipe() -> None:
    recipe, hparams = split_variant("stacked_lstm", parse_variant("shuffle=false,eps=1e-8"), 3)
    assert (recipe.shuffle, recipe.eps, recipe.epochs, recipe.patience) == (False, 1e-8, 3, None)
    assert recipe.lr == 2.5e-3 and hparams == {}
    recipe, hparams = split_variant("stacked_lstm", {"init": "tf_original"}, None)
    assert recipe == split_variant("stacked_lstm", {}, None)[0] and hparams == {
        "init": "tf_original"
    }
    for bad in ("shuffle=maybe", "eps=true", "batch_size=1.5", "patience=3"):
        with pytest.raises(ValueError, match=bad.split("=")[0]):
            split_variant("stacked_lstm", parse_variant(bad), None)


def test_bad_variant_is_rejected_before_training(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["stacked_lstm", "--variant", "shuffle=maybe", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2 and "shuffle='maybe'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
