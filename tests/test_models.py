"""Architectures: output shapes, parameter counts against the Keras originals, Keras init,
and that each one learns a small separable set."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data_contracts.dataset import N_CLASSES, WINDOW_SHAPE
from har_models.data import read_split
from har_models.keras_init import total_params, trainable_params
from har_models.registry import ARCHITECTURES, REGISTRY, build_model, get_spec
from har_models.training import evaluate, fit
from tests.synthetic_tensors import write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# Keras counts from the published models; PyTorch's LSTM keeps a second bias vector per
# layer (bias_hh), held at zero and frozen: trainable == Keras, total == Keras + 4*hidden*layers.
KERAS_PARAMS = {"lstm": 54_706, "cnn_lstm": 423_650, "convlstm": 249_026}
FROZEN_BIAS_HH = {"lstm": 4 * 100, "cnn_lstm": 4 * 100, "convlstm": 0, "stacked_lstm": 2 * 4 * 32}
# stacked_lstm: dense 9*32+32, two LSTM(32) layers 4*(32*64+32) each, output 32*6+6.
STACKED_PARAMS = (9 * 32 + 32) + 2 * 4 * (32 * 64 + 32) + (32 * 6 + 6)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_output_shape_and_param_count(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name)
    assert model(torch.randn(5, *WINDOW_SHAPE)).shape == (5, N_CLASSES)
    expected = KERAS_PARAMS.get(name, STACKED_PARAMS)
    assert REGISTRY[name].keras_params in (expected, None)
    assert trainable_params(model) == expected
    assert total_params(model) == expected + FROZEN_BIAS_HH[name]


@pytest.mark.parametrize("name", ["lstm", "stacked_lstm"])
def test_keras_lstm_init(name: str) -> None:
    """Forget-gate bias 1, other biases 0, bias_hh frozen at 0, orthogonal recurrent kernel."""
    lstm = build_model(name).net.lstm
    h = lstm.hidden_size
    b = lstm.bias_ih_l0.detach()
    assert torch.all(b[h : 2 * h] == 1) and torch.all(b[:h] == 0) and torch.all(b[2 * h :] == 0)
    assert not lstm.bias_hh_l0.requires_grad and torch.all(lstm.bias_hh_l0 == 0)
    w = lstm.weight_hh_l0.detach()
    assert torch.allclose(w.T @ w, torch.eye(h), atol=1e-5)


def test_unknown_architecture_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="valid architectures: lstm, cnn_lstm, convlstm"):
        get_spec("transformer")


def test_recipes_match_the_originals() -> None:
    assert (get_spec("lstm").recipe.epochs, get_spec("lstm").recipe.batch_size) == (15, 64)
    assert get_spec("cnn_lstm").recipe.epochs == get_spec("convlstm").recipe.epochs == 25
    stacked = get_spec("stacked_lstm").recipe
    assert (stacked.epochs, stacked.batch_size, stacked.lr, stacked.weight_decay) == (
        300,
        1500,
        2.5e-3,
        1.5e-3,
    )
    assert all(spec.recipe.eps == 1e-7 for spec in REGISTRY.values())
    # Keras' fit shuffles; the TF original walks the training file in order
    assert [spec.recipe.shuffle for spec in REGISTRY.values()] == [True, True, True, False]


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_learns_a_separable_set(name: str, tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path, n_per_class_subject=4)
    train, test = read_split(home.split_path("train")), read_split(home.split_path("test"))
    # Small data: smaller batches and a higher rate than the recipe, so 4 epochs suffice.
    recipe = get_spec(name).recipe.with_overrides(
        epochs=4, batch_size=32, lr=2e-2, standardize=True
    )
    result = fit(name, train.x, train.y, seed=0, recipe=recipe, device="cpu")
    scores, _ = evaluate(result.model, test.x, test.y)
    assert scores.accuracy > 0.5  # chance is 1/6
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]


def test_stacked_lstm_tf_original_init() -> None:
    """TensorFlow original: normal(0, 1) dense, normal(1, 1) output weights, one Glorot
    limit over the joint LSTM kernel, forget bias a frozen constant outside the L2 penalty."""
    torch.manual_seed(0)
    model = build_model("stacked_lstm", {"init": "tf_original"})
    assert trainable_params(model) == STACKED_PARAMS
    lstm = model.net.lstm
    assert not any(lstm.get_parameter(f"bias_hh_l{k}").requires_grad for k in range(2))
    p = {name: t.detach() for name, t in model.net.named_parameters()}
    assert abs(float(p["inp.weight"].std()) - 1.0) < 0.15
    assert abs(float(p["out.weight"].mean()) - 1.0) < 0.2
    limit = (6.0 / (32 + 32 + 4 * 32)) ** 0.5
    for layer in range(2):
        for kind in ("ih", "hh"):
            top = float(p[f"lstm.weight_{kind}_l{layer}"].abs().max())
            assert 0.9 * limit < top <= limit
        assert torch.all(p[f"lstm.bias_ih_l{layer}"] == 0)
        forget = p[f"lstm.bias_hh_l{layer}"]
        assert torch.equal(forget[32:64], torch.ones(32)) and float(forget.abs().sum()) == 32


def test_stacked_lstm_rejects_unknown_init() -> None:
    with pytest.raises(ValueError, match="init must be one of keras, tf_original, got 'glorot'"):
        build_model("stacked_lstm", {"init": "glorot"})
