"""Architecture name -> builder and default training recipe.

Adding an architecture is one module with an ``nn.Module`` and one entry in ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, get_args

from torch import nn

from har_models.classifier import HarClassifier, default_dims
from har_models.cnn_lstm import CNNLSTMClassifier
from har_models.convlstm import ConvLSTMClassifier
from har_models.lstm import LSTMClassifier
from har_models.minirocket import MiniRocketNet
from har_models.notebook_lstm import lstm128, lstm128_64
from har_models.rocket_ensemble import RocketEnsembleNet
from har_models.stacked_lstm import StackedLSTMClassifier


@dataclass(frozen=True)
class Recipe:
    """How the original trained the model (Keras optimizer defaults: eps 1e-7)."""

    epochs: int
    batch_size: int
    lr: float = 1e-3
    weight_decay: float = 0.0  # L2 as Adam's coupled weight decay (= grad of wd/2 * ||w||^2)
    eps: float = 1e-7
    optimizer: str = "adam"  # "adam" | "rmsprop" (Keras RMSprop: rho, eps outside the sqrt)
    rho: float = 0.9  # RMSprop's decay (Keras default)
    loss: str = "cross_entropy"  # har_models.losses: "cross_entropy" | "keras_sigmoid"
    standardize: bool = False  # the originals fed raw signals
    shuffle: bool = True  # False: consecutive batches in file order, wrapping (the TF original)
    patience: int | None = None  # benchmarks.validation: stop after this many epochs w/o gain

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def with_overrides(self, **changes: object) -> Recipe:
        kept: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **kept)


Family = Literal["seed port", "baseline", "new"]
FAMILIES: tuple[str, ...] = get_args(Family)


@dataclass(frozen=True)
class ArchSpec:
    name: str
    builder: Callable[..., nn.Module]
    recipe: Recipe
    hparams: dict[str, object] = field(default_factory=dict)
    keras_params: int | None = None  # the original's parameter count, where published
    note: str = ""
    family: Family = "seed port"  # a published model ported, a classical baseline, or ours


# One closed-form fit (random features + ridge); batch_size is the transform's chunk.
CLOSED_FORM_RECIPE = Recipe(1, 256)
# The HAR_LSTM notebook's training of both its models: Keras RMSprop, sigmoid outputs.
NOTEBOOK_RECIPE = Recipe(30, 32, optimizer="rmsprop", loss="keras_sigmoid", patience=10)

REGISTRY: dict[str, ArchSpec] = {
    spec.name: spec
    for spec in (
        ArchSpec("lstm", LSTMClassifier, Recipe(15, 64, patience=5), keras_params=54_706),
        ArchSpec("cnn_lstm", CNNLSTMClassifier, Recipe(25, 64, patience=8), keras_params=423_650),
        ArchSpec("convlstm", ConvLSTMClassifier, Recipe(25, 64, patience=8), keras_params=249_026),
        ArchSpec(
            "stacked_lstm",
            StackedLSTMClassifier,
            Recipe(300, 1500, lr=2.5e-3, weight_decay=1.5e-3, patience=50, shuffle=False),
            keras_params=None,
            note="TensorFlow original; no published count",
        ),
        ArchSpec(
            "minirocket",
            MiniRocketNet,
            CLOSED_FORM_RECIPE,
            family="baseline",
            note="MiniRocket (Dempster et al. 2021) + RidgeClassifierCV, in PyTorch",
        ),
        ArchSpec(
            "rocket_ensemble",
            RocketEnsembleNet,
            CLOSED_FORM_RECIPE,
            family="new",
            note="3 MiniRocket members, ridge on windows + 2 rotated copies, logits averaged",
        ),
        ArchSpec(
            "lstm128",
            lstm128,
            NOTEBOOK_RECIPE,
            keras_params=71_430,
            note="HAR_LSTM notebook, 1 layer",
        ),
        ArchSpec(
            "lstm128_64",
            lstm128_64,
            NOTEBOOK_RECIPE,
            keras_params=120_454,
            note="HAR_LSTM notebook, 2 layers",
        ),
    )
}
ARCHITECTURES: tuple[str, ...] = tuple(REGISTRY)
# The architecture we tell users to deploy: the best mean accuracy on held-out training
# subjects (never test) among the families; BENCHMARKS.md, "A model above every anchor".
RECOMMENDED: str = "rocket_ensemble"


def get_spec(name: str) -> ArchSpec:
    """The spec of ``name``; unknown names get an error listing the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r}; valid architectures: {', '.join(ARCHITECTURES)}"
        ) from None


def build_model(
    name: str, hparams: dict[str, object] | None = None, dims: dict[str, int] | None = None
) -> HarClassifier:
    """A freshly initialised model (seed torch before calling for reproducible weights);
    ``dims`` (n_steps, n_channels, n_classes) default to the UCI HAR window."""
    spec = get_spec(name)
    hp = {**spec.hparams, **(hparams or {})}
    d = {**default_dims(), **(dims or {})}
    return HarClassifier(name, hp, spec.builder(**hp, **d), d)
