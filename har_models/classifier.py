"""A network plus its input standardization: the unit that is trained, saved and served.

Keeping the per-channel statistics as buffers of the model means a checkpoint carries them
and a loaded model takes raw windows, with nothing to re-apply by hand.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS


def default_dims() -> dict[str, int]:
    """The UCI HAR window: what every model is built for unless told otherwise."""
    return {"n_steps": N_STEPS, "n_channels": N_CHANNELS, "n_classes": N_CLASSES}


class Standardize(nn.Module):
    """``(x - mean) / std`` per channel; the identity until :meth:`fit` is called."""

    mean: torch.Tensor
    std: torch.Tensor
    fitted: torch.Tensor

    def __init__(self, n_channels: int = N_CHANNELS) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_channels))
        self.register_buffer("std", torch.ones(n_channels))
        self.register_buffer("fitted", torch.tensor(False))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """Statistics over windows and steps of ``x`` (N, T, C): pass training data only."""
        flat = x.reshape(-1, x.shape[-1]).double()
        self.mean.copy_(flat.mean(0).float())
        self.std.copy_(flat.std(0).clamp_min(1e-8).float())
        self.fitted.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class HarClassifier(nn.Module):
    """Raw windows (batch, n_steps, n_channels) -> logits (batch, n_classes)."""

    def __init__(
        self,
        architecture: str,
        hparams: dict[str, object],
        net: nn.Module,
        dims: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.hparams = dict(hparams)
        self.dims = dict(dims or default_dims())
        self.norm = Standardize(self.dims["n_channels"])
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))

    @property
    def device(self) -> torch.device:
        """Where the model lives (a closed-form model has buffers but no parameters)."""
        return self.norm.mean.device

    def parameter_count(self) -> int:
        """Trainable parameters, or every fitted number of a closed-form model (its random
        features' biases, scaler and ridge weights): what a model costs to store."""
        fitted = getattr(self.net, "fitted_numbers", None)
        if callable(fitted):
            return int(fitted())
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    @property
    def closed_form(self) -> bool:
        """Fitted in one pass (no epochs), e.g. random features with a ridge head."""
        return bool(getattr(self.net, "closed_form", False))

    @torch.inference_mode()
    def predict(self, x: np.ndarray | torch.Tensor, batch_size: int = 1024) -> np.ndarray:
        """0-based class indices for windows (N, n_steps, n_channels), in eval mode."""
        was_training = self.training
        self.eval()
        device = self.device
        xt = torch.from_numpy(np.array(x, dtype=np.float32)).to(device)
        out = [self(xt[i : i + batch_size]).argmax(1) for i in range(0, len(xt), batch_size)]
        self.train(was_training)
        return torch.cat(out).cpu().numpy()
