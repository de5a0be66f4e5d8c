"""The MiniRocket baseline: faithful to the algorithm's fixed parts, seeded, and saved and
loaded like every other architecture (plain tensors, no pickled estimator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from har_models.checkpoint import load_checkpoint, save_checkpoint
from har_models.data import read_split
from har_models.minirocket import N_KERNELS, dilations_for, kernel_weights
from har_models.run import train_one_run
from har_models.training import evaluate, fit
from tests.synthetic_tensors import run_params, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    return write_synthetic_tensors(tmp_path_factory.mktemp("mr"), n_per_class_subject=4)


def test_fixed_parts_follow_the_paper() -> None:
    w = kernel_weights()
    assert w.shape == (N_KERNELS, 9) == (84, 9)
    assert (np.sort(w, axis=1) == [-1] * 6 + [2] * 3).all()  # three +2, six -1, sum 0
    assert len({tuple(row) for row in w}) == 84
    dilations, per_dilation = dilations_for(128, 10_000)
    assert dilations.tolist() == list(range(1, 16))  # floor(2^linspace(0, log2(127/8), 32))
    assert per_dilation.sum() == 10_000 // 84 == 119


def test_fit_is_seeded_and_the_checkpoint_predicts_the_same(home, tmp_path: Path) -> None:
    train = read_split(home.split_path("train"))
    test = read_split(home.split_path("test"))
    runs = [fit("minirocket", train.x, train.y, seed=s, device="cpu") for s in (3, 3, 4)]
    a, b, c = (r.model.net.transforms[0] for r in runs)
    assert torch.equal(a.biases, b.biases) and torch.equal(a.channel_mask, b.channel_mask)
    assert not torch.equal(a.channel_mask, c.channel_mask)
    model = runs[0].model
    assert model.closed_form and runs[0].epochs == 1
    assert model.parameter_count() == 9_996 * 3 + 6 * 9_996 + 6  # biases, scaler, ridge
    assert not any(p.requires_grad for p in model.parameters())
    path = save_checkpoint(model, tmp_path / "mr.pt")
    payload = torch.load(path, weights_only=True)  # plain tensors and types only
    assert payload["architecture"] == "minirocket"
    loaded = load_checkpoint(path)
    assert np.array_equal(loaded.predict(test.x), model.predict(test.x))
    scores, _ = evaluate(model, test.x, test.y)
    assert scores.accuracy > 0.5  # the synthetic classes are separable; chance is 1/6


def test_validated_minirocket_has_no_epochs_to_choose(home) -> None:
    """Its ridge alpha is chosen inside its own fit; validated trains on every subject."""
    params = run_params(home, architecture="minirocket", protocol="validated", epochs=None)
    record = train_one_run(params)
    history = pd.read_parquet(params.study.root / record.history_path)
    assert history["phase"].tolist() == ["train"] and record.epochs == record.best_epoch == 1
    assert record.n_params == 9_996 * 9 + 6 and record.status == "completed"
