"""Would training R repeats as one computation be faster on this CPU? One training step
(forward + backward) of R = 10 repeats, batch 64, one thread, as R separate modules (what
solo training does) against one batched computation of the same arithmetic:

- lstm: R x ``nn.LSTM(9, 100)`` (oneDNN's kernel) against one LSTM cell loop over 128 steps
  whose recurrent product is a batched matmul over the R weight sets;
- convlstm: R x the ConvLSTM step's two convolutions against one grouped convolution
  (groups = R) and against a batched matmul over unfolded steps.

    .venv/bin/python -m benchmarks.batched_repeats

Prints process CPU milliseconds per step (the best of a few interleaved rounds), so a shared
machine's waiting time is not counted.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import torch
from torch import nn

R, B, T, C, H = 10, 64, 128, 9, 100


def cpu_ms(step: Callable[[], None], n: int = 3) -> float:
    step()
    t0 = time.process_time()
    for _ in range(n):
        step()
    return 1000 * (time.process_time() - t0) / n


def lstm_steps() -> dict[str, Callable[[], None]]:
    x = torch.randn(R, B, T, C)
    solo = [nn.LSTM(C, H, batch_first=True) for _ in range(R)]

    def separate() -> None:
        loss = sum(m(x[r])[1][0].sum() for r, m in enumerate(solo))
        loss.backward()

    w_ih = (0.1 * torch.randn(R, C, 4 * H)).requires_grad_()
    w_hh = (0.1 * torch.randn(R, H, 4 * H)).requires_grad_()
    bias = torch.zeros(R, 1, 4 * H, requires_grad=True)

    def batched() -> None:
        gates_x = torch.baddbmm(bias, x.reshape(R, B * T, C), w_ih).reshape(R, B, T, 4 * H)
        inputs = gates_x.unbind(2)
        h = c = torch.zeros(R, B, H)
        for t in range(T):
            i, f, g, o = torch.baddbmm(inputs[t], h, w_hh).chunk(4, -1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        h.sum().backward()

    return {"lstm: R x nn.LSTM (oneDNN)": separate, "lstm: batched cell loop": batched}


def convlstm_steps() -> dict[str, Callable[[], None]]:
    xs = [torch.randn(B, C, 32) for _ in range(R)]
    hs = [torch.randn(B, 64, 30, requires_grad=True) for _ in range(R)]
    conv_in = [nn.Conv1d(C, 256, 3) for _ in range(R)]
    conv_rec = [nn.Conv1d(64, 256, 3, padding=1, bias=False) for _ in range(R)]

    def separate() -> None:
        loss = sum((conv_in[r](xs[r]) + conv_rec[r](hs[r])).square().sum() for r in range(R))
        loss.backward()

    g_in = nn.Conv1d(R * C, R * 256, 3, groups=R)
    g_rec = nn.Conv1d(R * 64, R * 256, 3, padding=1, bias=False, groups=R)
    x_all = torch.cat(xs, 1)
    h_all = torch.cat([h.detach() for h in hs], 1).requires_grad_()

    def grouped() -> None:
        (g_in(x_all) + g_rec(h_all)).square().sum().backward()

    return {"convlstm step: R x Conv1d": separate, "convlstm step: grouped Conv1d": grouped}


def main() -> int:
    torch.set_num_threads(1)
    steps = {**lstm_steps(), **convlstm_steps()}
    best = {name: min(cpu_ms(step) for _ in range(2)) for name, step in steps.items()}
    for name, ms in best.items():
        print(f"| {name} | {ms:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
