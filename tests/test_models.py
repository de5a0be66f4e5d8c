"""Architectures: output shapes, parameter counts against the Keras originals, Keras init,
and that each one learns a small separable set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
KERAS_PARAMS = {
    "lstm": 54_706,
    "cnn_lstm": 423_650,
    "convlstm": 249_026,
    "lstm128": 71_430,  # the HAR_LSTM notebook's model.summary()
    "lstm128_64": 120_454,
}
FROZEN_BIAS_HH = {
    "lstm": 4 * 100,
    "cnn_lstm": 4 * 100,
    "convlstm": 0,
    "stacked_lstm": 2 * 4 * 32,
    "lstm128": 4 * 128,
    "lstm128_64": 4 * 128 + 4 * 64,
}
# stacked_lstm: dense 9*32+32, two LSTM(32) layers 4*(32*64+32) each, output 32*6+6.
STACKED_PARAMS = (9 * 32 + 32) + 2 * 4 * (32 * 64 + 32) + (32 * 6 + 6)


DEEP = [n for n in ARCHITECTURES if n in FROZEN_BIAS_HH]


@pytest.mark.parametrize("name", DEEP)
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
    assert all(REGISTRY[n].recipe.eps == 1e-7 for n in DEEP)
    # Keras' fit shuffles; the TF original walks the training file in order
    assert {n: REGISTRY[n].recipe.shuffle for n in DEEP if not REGISTRY[n].recipe.shuffle} == {
        "stacked_lstm": False
    }
    for name in ("lstm128", "lstm128_64"):  # the HAR_LSTM notebook
        r = get_spec(name).recipe
        assert (r.epochs, r.batch_size, r.optimizer, r.lr, r.rho, r.eps, r.loss) == (
            30, 32, "rmsprop", 1e-3, 0.9, 1e-7, "keras_sigmoid",
        )  # fmt: skip


@pytest.mark.parametrize("name", DEEP)
def test_learns_a_separable_set(name: str, tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path, n_per_class_subject=4)
    train, test = read_split(home.split_path("train")), read_split(home.split_path("test"))
    # Small data: smaller batches and a higher rate than the recipe, so 4 epochs suffice.
    base = get_spec(name).recipe
    # RMSprop takes bigger early steps: a smaller rate and a few more epochs
    lr, epochs = (2e-2, 4) if base.optimizer == "adam" else (5e-3, 8)
    recipe = base.with_overrides(epochs=epochs, batch_size=32, lr=lr, standardize=True)
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


def test_keras_sigmoid_loss_is_keras_categorical_crossentropy_on_sigmoid_outputs() -> None:
    """Keras: outputs / their sum, clipped to [1e-7, 1 - 1e-7], then -sum(target * log)."""
    from har_models.losses import keras_sigmoid_loss

    torch.manual_seed(0)
    logits = 4 * torch.randn(7, 6, dtype=torch.float64)
    target = torch.tensor([0, 1, 2, 3, 4, 5, 0])
    out = torch.sigmoid(logits).numpy()
    out = out / out.sum(-1, keepdims=True)
    out = out.clip(1e-7, 1 - 1e-7)
    keras = -(torch.nn.functional.one_hot(target, 6).numpy() * np.log(out)).sum(-1).mean()
    assert float(keras_sigmoid_loss(logits, target)) == pytest.approx(keras, rel=1e-12)


def test_rmsprop_follows_keras_update_rule() -> None:
    """Keras RMSprop: ms = rho*ms + (1-rho)*g^2 (ms starts at 0); w -= lr*g/(sqrt(ms)+eps)."""
    from har_models.registry import Recipe
    from har_models.training import make_optimizer

    recipe = Recipe(1, 1, lr=1e-3, eps=1e-7, optimizer="rmsprop", rho=0.9)
    w = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    opt = make_optimizer(recipe, [w])
    ms, ref = np.zeros(3), w.detach().numpy().copy()
    for step in range(3):
        g = np.array([0.1, -0.2, 0.3]) * (step + 1)
        w.grad = torch.tensor(g)
        opt.step()
        ms = 0.9 * ms + 0.1 * g**2
        ref = ref - 1e-3 * g / (np.sqrt(ms) + 1e-7)
    assert np.allclose(w.detach().numpy(), ref, rtol=0, atol=1e-12)
