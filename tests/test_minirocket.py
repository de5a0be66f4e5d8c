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


def test_fused_features_equal_the_plain_transform(home) -> None:
    """The fused pass (one convolution per dilation for every member; on CPU numpy's
    comparison in chunks of windows) computes exactly the per-dilation features, and so do
    the GPU's two ways of counting (every value against every bias for a few windows, by
    rank among the sorted biases for many), checked here on CPU tensors."""
    from torch.nn import functional as F

    from har_models.minirocket import (
        SMALL_BATCH,
        _counts_above_numpy,
        _counts_above_torch,
        _dilated_conv_steps_first,
        _FusedTables,
        _ppv_by_rank,
        fused_ppv,
    )

    train = read_split(home.split_path("train"))
    model = fit("rocket_ensemble", train.x, train.y, seed=0, device="cpu").model
    transforms = [m.transforms[0] for m in model.net.members]
    x = torch.from_numpy(np.ascontiguousarray(train.x[: 2 * SMALL_BATCH + 4].transpose(0, 2, 1)))
    for batch in (x[:1], x):  # one window; several chunks of windows
        plain = torch.cat([t(batch) for t in transforms], -1)
        assert torch.equal(fused_ppv(batch, transforms, {}), plain)
    tables = _FusedTables(transforms, torch.device("cpu"))
    for batch in (x[:1], x):  # the GPU's ways of counting agree with the CPU's
        for j, d in enumerate(transforms[0].dilation_list):
            if batch.shape[0] <= SMALL_BATCH:
                conv_t = _dilated_conv_steps_first(batch, tables.weights[j], d)
                conv_t = conv_t.masked_fill_(tables.outside_t[j], -torch.inf)
            else:
                conv = F.conv1d(batch, tables.weights[j], padding=4 * d, dilation=d)
                conv_t = conv.masked_fill_(tables.outside[j], -torch.inf).transpose(1, 2)
            expected = _counts_above_numpy(conv_t, tables.biases_np[j])
            assert torch.equal(_counts_above_torch(batch, tables, j, d).long(), expected.long())
    conv = torch.randn(5, 84, 128).masked_fill(torch.rand(5, 84, 128) < 0.1, -torch.inf)
    bias = torch.randn(84, 7)
    compared = (conv[:, :, None, :] > bias[None, :, :, None]).sum(-1).float()
    assert torch.equal(_ppv_by_rank(conv, bias), compared)


def test_rocket_ensemble_is_fitted_on_rotated_copies_and_saved_whole(home, tmp_path: Path) -> None:
    from har_models.augment import random_rotations, rotate_windows, with_rotated_copies

    r = random_rotations(np.random.default_rng(0), 5, 30.0)
    assert np.allclose(r @ r.transpose(0, 2, 1), np.eye(3), atol=1e-9)  # rotations
    assert np.allclose(np.linalg.det(r), 1.0)
    angles = np.degrees(np.arccos(np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert (angles <= 30.0 + 1e-6).all()
    x = np.random.default_rng(1).normal(size=(5, 8, 9)).astype(np.float32)
    rotated = rotate_windows(x, r)
    for g in range(3):  # each sensor's vector length is kept: a tilt, not a new signal
        assert np.allclose(np.linalg.norm(rotated[..., 3 * g : 3 * g + 3], axis=-1),
                           np.linalg.norm(x[..., 3 * g : 3 * g + 3], axis=-1), atol=1e-5)  # fmt: skip
    xa, ya = with_rotated_copies(x, np.arange(5), 2, 30.0, np.random.default_rng(2))
    assert xa.shape == (15, 8, 9) and np.array_equal(xa[:5], x) and list(ya) == [*range(5)] * 3

    train = read_split(home.split_path("train"))
    test = read_split(home.split_path("test"))
    result = fit("rocket_ensemble", train.x, train.y, seed=5, device="cpu")
    model = result.model
    assert model.closed_form and len(model.net.members) == 3
    assert model.parameter_count() == 3 * (9_996 * 3 + 6 * 9_996 + 6) <= 500_000
    path = save_checkpoint(model, tmp_path / "ens.pt")
    loaded = load_checkpoint(path)
    assert np.array_equal(loaded.predict(test.x), model.predict(test.x))
    assert evaluate(model, test.x, test.y)[0].accuracy > 0.5
