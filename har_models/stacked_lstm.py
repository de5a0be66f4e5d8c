"""``stacked_lstm``: per-step dense 32 ReLU -> two stacked LSTM(32) -> last output -> 6 logits.

Port of Chevalier's TensorFlow "LSTM-Human-Activity-Recognition" two-layer model (91.65 %).
Its recipe: Adam(lr 0.0025), batch 1500, 300 epochs, L2 loss 0.0015 * sum(tf.nn.l2_loss)
over all trainable variables; that penalty's gradient is 0.0015 * w, exactly what
``torch.optim.Adam(weight_decay=0.0015)`` adds, so the recipe uses weight decay.
Differences: the original initialised weights from random normals and used Adam eps 1e-8;
this port uses the Keras defaults shared by the other models (Glorot / orthogonal,
forget bias 1, eps 1e-7). Parameter count 17,158 (Keras-equivalent) trainable, plus the
frozen zero ``bias_hh`` of PyTorch's LSTM (2 x 128) in the total.
"""

from __future__ import annotations

import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES
from har_models.keras_init import init_dense, init_lstm


class StackedLSTMClassifier(nn.Module):
    def __init__(self, hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.inp = nn.Linear(N_CHANNELS, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, N_CLASSES)
        init_dense(self.inp)
        init_lstm(self.lstm)
        init_dense(self.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, 128, 9) -> logits (batch, 6)."""
        _, (h, _) = self.lstm(torch.relu(self.inp(x)))
        return self.out(h[-1])
