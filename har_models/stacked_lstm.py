"""``stacked_lstm``: per-step dense 32 ReLU -> two stacked LSTM(32) -> last output -> 6 logits.

Port of Chevalier's TensorFlow "LSTM-Human-Activity-Recognition" two-layer model (91.65 %).
Its recipe: Adam(lr 0.0025), batch 1500, 300 epochs, L2 loss 0.0015 * sum(tf.nn.l2_loss)
over all trainable variables; that penalty's gradient is 0.0015 * w, exactly what
``torch.optim.Adam(weight_decay=0.0015)`` adds, so the recipe uses weight decay.

Two initialisations (hparam ``init``):
- ``"keras"``: the Keras defaults shared by the other ports (Glorot / orthogonal, forget
  bias 1 inside the trainable bias).
- ``"tf_original"``: the original's own: ``tf.random_normal`` (std 1) for the input dense
  layer and its bias, mean 1 for the output weights, std 1 for the output bias;
  ``BasicLSTMCell``'s Glorot-uniform over the joint (input + recurrent) kernel and a zero
  trainable bias, with ``forget_bias=1.0`` a constant outside the variables (here: the
  frozen ``bias_hh``, so the L2 penalty does not pull it to 0, as in TensorFlow).
They were compared on validation subjects, never on test (``benchmarks/validation.py``,
BENCHMARKS.md): no difference, so the default stays ``keras``.
Batches follow the original too: 1500 consecutive windows in file order, wrapping around
(``Recipe(shuffle=False)``), the default: it is the original's recipe and no worse on
validation subjects (15 seeds: 90.7 % mean accuracy over the last 30 epochs against 90.2 %
shuffled, a gap within the noise; BENCHMARKS.md).
Remaining difference: Adam eps 1e-7 (Keras; TF1 used 1e-8). Parameter count 17,158
trainable, plus the frozen ``bias_hh`` of PyTorch's LSTM (2 x 128) in the total.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from data_contracts.dataset import N_CHANNELS, N_CLASSES, N_STEPS
from har_models.keras_init import init_dense, init_lstm

INITS = ("keras", "tf_original")


class StackedLSTMClassifier(nn.Module):
    def __init__(
        self,
        hidden: int = 32,
        layers: int = 2,
        init: str = "keras",
        *,
        n_channels: int = N_CHANNELS,
        n_steps: int = N_STEPS,
        n_classes: int = N_CLASSES,
    ) -> None:
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.inp = nn.Linear(n_channels, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, n_classes)
        if init == "keras":
            init_dense(self.inp)
            init_lstm(self.lstm)
            init_dense(self.out)
        else:
            init_tf_original(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, 128, 9) -> logits (batch, 6)."""
        _, (h, _) = self.lstm(torch.relu(self.inp(x)))
        return self.out(h[-1])


@torch.no_grad()
def init_tf_original(model: StackedLSTMClassifier) -> None:
    """The TensorFlow original's initialisation (see the module docstring)."""
    nn.init.normal_(model.inp.weight)
    nn.init.normal_(model.inp.bias)
    nn.init.normal_(model.out.weight, mean=1.0)
    nn.init.normal_(model.out.bias)
    h = model.lstm.hidden_size
    for layer in range(model.lstm.num_layers):
        w_ih = getattr(model.lstm, f"weight_ih_l{layer}")
        w_hh = getattr(model.lstm, f"weight_hh_l{layer}")
        # one Glorot-uniform kernel of shape (input + hidden, 4 * hidden), as BasicLSTMCell
        limit = math.sqrt(6.0 / (w_ih.shape[1] + w_hh.shape[1] + 4 * h))
        nn.init.uniform_(w_ih, -limit, limit)
        nn.init.uniform_(w_hh, -limit, limit)
        nn.init.zeros_(getattr(model.lstm, f"bias_ih_l{layer}"))
        forget = getattr(model.lstm, f"bias_hh_l{layer}")
        nn.init.zeros_(forget)
        forget[h : 2 * h] = 1.0  # TF's forget_bias: constant, not trained, not decayed
        forget.requires_grad_(False)
