"""``convlstm``: a hand-written ConvLSTM (PyTorch has none) over 4 steps of a 1x32 "image".

Port of Keras ``ConvLSTM2D(64, (1, 3), activation="relu")`` (Brownlee) -> Dropout(0.5) ->
Flatten -> Dense(100, relu) -> 6 logits; Keras: 249,026 parameters, and so is this port
(one bias vector per gate, as Keras). The window (128, 9) becomes 4 steps of a 1x32 image
with 9 channels. Because the image height is 1 and the kernel (1, 3), a 2-D convolution is
exactly a 1-D convolution along the width: the cell uses ``Conv1d`` (same weights, faster).
As Keras: the input convolution is "valid" (32 -> 30 wide), the recurrent one "same";
``activation="relu"`` replaces tanh for the candidate and the output, the gates use sigmoid
(tf.keras >= 2 default; Keras 2.2 used hard_sigmoid); Glorot-uniform input kernel,
orthogonal recurrent kernel, zero bias with forget-gate bias 1.
"""

from __future__ import annotations

import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.keras_init import init_dense, with_forget_bias


class ConvLSTMCell(nn.Module):
    """One ConvLSTM step along a 1-D image; gate order (i, f, c, o) as Keras."""

    def __init__(self, in_channels: int, filters: int, kernel: int) -> None:
        super().__init__()
        self.filters = filters
        self.input_conv = nn.Conv1d(in_channels, 4 * filters, kernel)  # valid
        self.recurrent_conv = nn.Conv1d(filters, 4 * filters, kernel, padding="same", bias=False)
        init_dense(self.input_conv)
        with_forget_bias(self.input_conv.bias, filters)
        # Keras orthogonalizes the recurrent kernel reshaped to (k * filters, 4 * filters).
        nn.init.orthogonal_(self.recurrent_conv.weight)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        gx = self.input_conv(x)
        if state is None:
            h = c = torch.zeros(
                x.shape[0], self.filters, gx.shape[-1], device=x.device, dtype=x.dtype
            )
        else:
            h, c = state
        i, f, g, o = (gx + self.recurrent_conv(h)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.relu(g)
        h = torch.sigmoid(o) * torch.relu(c)
        return h, c


class ConvLSTMClassifier(nn.Module):
    def __init__(
        self,
        n_subsequences: int = 4,
        filters: int = 64,
        kernel: int = 3,
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
        self.width = n_steps // n_subsequences
        self.cell = ConvLSTMCell(n_channels, filters, kernel)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear((self.width - kernel + 1) * filters, dense)
        self.out = nn.Linear(dense, n_classes)
        init_dense(self.dense)
        init_dense(self.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, 128, 9) -> logits (batch, 6)."""
        b = x.shape[0]
        seq = x.reshape(b, self.n_sub, self.width, x.shape[2]).transpose(2, 3)  # (b, t, 9, w)
        state = self.cell(seq[:, 0], None)
        for t in range(1, self.n_sub):
            state = self.cell(seq[:, t], state)
        h = state[0].transpose(1, 2).reshape(b, -1)  # Keras flatten order: (width, filters)
        z = torch.relu(self.dense(self.dropout(h)))
        return self.out(z)
