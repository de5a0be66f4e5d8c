"""Keras default initializers, so a port starts from the same distribution as the original.

Keras: Glorot-uniform kernels, orthogonal recurrent kernels, zero biases, LSTM forget-gate
bias 1 (``unit_forget_bias``). PyTorch's defaults are uniform(+-1/sqrt(fan_in)) everywhere.
"""

from __future__ import annotations

from torch import nn


def init_dense(layer: nn.Linear | nn.Conv1d) -> None:
    """Glorot-uniform kernel, zero bias (fan in/out include the kernel width, as in Keras)."""
    nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def init_lstm(lstm: nn.LSTM) -> None:
    """Keras LSTM init; PyTorch's second bias (``bias_hh``) is zeroed and frozen.

    Keras has one bias vector per layer, PyTorch two (``bias_ih`` + ``bias_hh``, summed).
    Freezing ``bias_hh`` at zero makes the model compute exactly the Keras function and
    keeps the trainable-parameter count equal to Keras; the frozen vector adds
    ``4 * hidden_size`` non-trainable parameters per layer to the total count.
    """
    h = lstm.hidden_size
    for name, p in lstm.named_parameters():
        if name.startswith("weight_ih"):
            nn.init.xavier_uniform_(p)
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(p)  # (4h, h) with orthonormal columns = Keras (h, 4h) rows
        elif name.startswith("bias_ih"):
            nn.init.zeros_(p)
            with_forget_bias(p, h)
        elif name.startswith("bias_hh"):
            nn.init.zeros_(p)
            p.requires_grad_(False)


def with_forget_bias(bias, hidden_size: int) -> None:
    """Set the forget-gate slice to 1; gate order (i, f, g, o) is the same in Keras and PyTorch."""
    bias.data[hidden_size : 2 * hidden_size] = 1.0


def trainable_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def total_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
