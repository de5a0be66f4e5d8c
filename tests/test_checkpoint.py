"""A checkpoint alone predicts exactly what the trained model predicted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from data_contracts.dataset import ACTIVITIES, CHANNELS
from har_models.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from har_models.data import read_split
from har_models.registry import get_spec
from har_models.training import fit
from tests.synthetic_tensors import write_synthetic_tensors


@pytest.mark.parametrize("name", ["cnn_lstm", "convlstm"])
def test_round_trip_gives_identical_predictions(name: str, tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path, n_per_class_subject=2)
    train, test = read_split(home.split_path("train")), read_split(home.split_path("test"))
    recipe = get_spec(name).recipe.with_overrides(epochs=1, standardize=True)
    model = fit(name, train.x, train.y, seed=1, recipe=recipe, device="cpu").model
    path = save_checkpoint(model, tmp_path / "ck" / "m.pt", data_sha256="abc")
    loaded = load_checkpoint(path)
    assert not loaded.training and loaded.architecture == name
    with torch.inference_mode():
        a = model(torch.from_numpy(test.x.copy()))
        b = loaded(torch.from_numpy(test.x.copy()))
    assert torch.equal(a, b)
    np.testing.assert_array_equal(model.predict(test.x), loaded.predict(test.x))
    assert torch.equal(loaded.norm.mean, model.norm.mean) and bool(loaded.norm.fitted)
    payload = read_checkpoint(path)
    assert payload["channels"] == list(CHANNELS) and payload["activities"] == list(ACTIVITIES)
    assert payload["data_sha256"] == "abc" == loaded.data_sha256
    assert not list((tmp_path / "ck").glob(".*.tmp"))


def test_missing_or_foreign_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")
    torch.save({"format_version": 99}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="unsupported checkpoint format"):
        load_checkpoint(tmp_path / "other.pt")
