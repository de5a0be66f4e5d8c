"""``lstm``: LSTM(100) over the 128 steps -> dropout 0.5 -> dense 100 ReLU -> 6 logits.

Port of the Keras model (Brownlee, "LSTMs for Human Activity Recognition"); Keras has
54,706 parameters. Differences: PyTorch's LSTM keeps a second bias vector, held at zero
and frozen (see :func:`har_models.keras_init.init_lstm`), so the trainable count is the
Keras 54,706 and the total count 54,706 + 400. The softmax is folded into the loss
(cross-entropy on logits), which is the same objective as Keras' softmax + categorical CE.
"""

from __future__ import annotations

import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.keras_init import init_dense, init_lstm


class LSTMClassifier(nn.Module):
    def __init__(
        self,
        units: int = 100,
        dense: int = 100,
        dropout: float = 0.5,
        *,
        n_channels: int = N_CHANNELS,
        n_steps: int = N_STEPS,
        n_classes: int = N_CLASSES,
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_channels, units, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(units, dense)
        self.out = nn.Linear(dense, n_classes)
        init_lstm(self.lstm)
        init_dense(self.dense)
        init_dense(self.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, 128, 9) -> logits (batch, 6); Keras returns the last hidden state."""
        _, (h, _) = self.lstm(x)
        z = torch.relu(self.dense(self.dropout(h[-1])))
        return self.out(z)
