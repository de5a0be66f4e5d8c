"""``cnn_lstm``: a shared CNN over 4 sub-sequences of 32 steps, then LSTM(100) over the 4.

Port of the Keras ``TimeDistributed`` CNN-LSTM (Brownlee): Conv1D(64, 3, relu) ->
Conv1D(64, 3, relu) -> Dropout(0.5) -> MaxPool1D(2) -> Flatten, per sub-sequence; then
LSTM(100) -> Dropout(0.5) -> Dense(100, relu) -> 6 logits. Keras: 423,650 parameters.
Differences: the frozen zero ``bias_hh`` of the PyTorch LSTM (+400 non-trainable, see
:mod:`har_models.keras_init`); the flatten is taken in Keras' (steps, filters) order so
the LSTM sees the same feature layout.
"""

from __future__ import annotations

import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.keras_init import init_dense, init_lstm


class CNNLSTMClassifier(nn.Module):
    def __init__(
        self,
        n_subsequences: int = 4,
        filters: int = 64,
        kernel: int = 3,
        units: int = 100,
        dense: int = 100,
        dropout: float = 0.5,
        *,
        n_channels: int = N_CHANNELS,
        n_steps: int = N_STEPS,
        n_classes: int = N_CLASSES,
    ) -> None:
        super().__init__()
        if n_steps % n_subsequences:
            raise ValueError(f"n_subsequences={n_subsequences} does not divide {n_steps} steps")
        self.n_sub = n_subsequences
        self.sub_len = n_steps // n_subsequences
        self.conv1 = nn.Conv1d(n_channels, filters, kernel)
        self.conv2 = nn.Conv1d(filters, filters, kernel)
        self.cnn_dropout = nn.Dropout(dropout)
        self.pool = nn.MaxPool1d(2)
        pooled = (self.sub_len - 2 * (kernel - 1)) // 2
        self.lstm = nn.LSTM(pooled * filters, units, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(units, dense)
        self.out = nn.Linear(dense, n_classes)
        for layer in (self.conv1, self.conv2, self.dense, self.out):
            init_dense(layer)
        init_lstm(self.lstm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, 128, 9) -> logits (batch, 6)."""
        b = x.shape[0]
        sub = x.reshape(b * self.n_sub, self.sub_len, x.shape[2]).transpose(1, 2)
        z = torch.relu(self.conv2(torch.relu(self.conv1(sub))))
        z = self.pool(self.cnn_dropout(z))  # (b*n, filters, pooled)
        z = z.transpose(1, 2).reshape(b, self.n_sub, -1)  # Keras flatten order: (steps, filters)
        _, (h, _) = self.lstm(z)
        z = torch.relu(self.dense(self.dropout(h[-1])))
        return self.out(z)
