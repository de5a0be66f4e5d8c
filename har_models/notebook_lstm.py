"""``lstm128`` and ``lstm128_64``: the two models of the HAR_LSTM Keras notebook (2019).

- ``lstm128``: LSTM(128) over the 128 steps -> Dropout(0.5) -> Dense(6, sigmoid); Keras counts
  71,430 parameters.
- ``lstm128_64``: LSTM(128, return_sequences) -> Dropout(0.2) -> LSTM(64) -> Dropout(0.5) ->
  Dense(6, sigmoid); Keras counts 120,454.

The notebook trains them with Keras' ``categorical_crossentropy`` on **sigmoid** outputs,
which Keras turns into a distribution by dividing by their sum before the log (then clips
to [1e-7, 1 - 1e-7]). The port returns the pre-sigmoid scores as logits and the recipe's
``loss="keras_sigmoid"`` (:mod:`har_models.losses`) computes exactly that objective; the
predicted class is the same argmax. RMSprop with Keras' defaults (lr 1e-3, rho 0.9, eps
1e-7), 30 epochs, batch 32. PyTorch's LSTM keeps a second bias vector, frozen at zero
(:func:`har_models.keras_init.init_lstm`), so the trainable counts equal Keras'.
"""

from __future__ import annotations

import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.keras_init import init_dense, init_lstm


class NotebookLSTM(nn.Module):
    """One or two LSTM layers, as the notebook's two configurations."""

    def __init__(
        self,
        units: tuple[int, ...] = (128,),
        dropouts: tuple[float, ...] = (0.5,),
        *,
        n_channels: int = N_CHANNELS,
        n_steps: int = N_STEPS,
        n_classes: int = N_CLASSES,
    ) -> None:
        super().__init__()
        units, dropouts = tuple(units), tuple(dropouts)
        if len(units) != len(dropouts) or not units:
            raise ValueError(f"need one dropout per LSTM layer, got {units} and {dropouts}")
        sizes = (n_channels, *units)
        lstms = [nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(units))]
        self.lstms = nn.ModuleList(lstms)
        self.dropouts = nn.ModuleList(nn.Dropout(p) for p in dropouts)
        self.out = nn.Linear(units[-1], n_classes)
        for lstm in lstms:
            init_lstm(lstm)
        init_dense(self.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, steps, channels) -> pre-sigmoid scores (batch, classes)."""
        *hidden, last = list(zip(self.lstms, self.dropouts, strict=True))
        for lstm, drop in hidden:  # return_sequences=True layers
            x = drop(lstm(x)[0])
        lstm, drop = last
        _, (h, _) = lstm(x)
        return self.out(drop(h[-1]))


def lstm128(**kwargs: int) -> NotebookLSTM:
    return NotebookLSTM(units=(128,), dropouts=(0.5,), **kwargs)


def lstm128_64(**kwargs: int) -> NotebookLSTM:
    return NotebookLSTM(units=(128, 64), dropouts=(0.2, 0.5), **kwargs)
