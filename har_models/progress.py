"""Per-epoch progress of a training run, for logs: one line per epoch, at most every few
seconds, and a progress bar only where a person watches a terminal.

``fit(on_epoch=...)`` calls the object :func:`epoch_progress` returns; the caller decides
where lines go (a Prefect run logger in ``tasks/``, ``print`` elsewhere), so this module
knows nothing of Prefect.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

from har_models.training import EpochReport

DEFAULT_EVERY_S = 5.0


def epoch_line(run: str, epoch: int, epochs: int, row: dict[str, float], elapsed_s: float) -> str:
    """``lstm-r00 epoch 3/15: loss 0.512, accuracy 81.2 %, val loss 0.40, 9.8 s, ~1.9 min left``"""
    parts = [f"loss {row['train_loss']:.4f}", f"accuracy {100 * row['train_accuracy']:.1f} %"]
    if not math.isnan(row.get("val_loss", math.nan)):
        parts.append(f"val loss {row['val_loss']:.4f}")
        parts.append(f"val accuracy {100 * row['val_accuracy']:.1f} %")
    parts.append(f"{row['seconds']:.1f} s")
    left = elapsed_s / epoch * (epochs - epoch)
    if epoch < epochs:
        parts.append(f"~{left / 60:.1f} min left" if left >= 60 else f"~{left:.0f} s left")
    return f"{run} epoch {epoch}/{epochs}: " + ", ".join(parts)


class EpochProgress:
    """An ``on_epoch`` callback: logs the first and last epoch and otherwise one epoch at
    most every ``every_s`` seconds; drives a tqdm bar when ``stream`` is a terminal."""

    def __init__(
        self,
        run: str,
        emit: Callable[[str], object],
        every_s: float = DEFAULT_EVERY_S,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run, self.emit, self.every_s, self.clock = run, emit, every_s, clock
        self.start = clock()
        self.last: float | None = None
        self.epoch = 0
        self.stream = stream if stream is not None else sys.stderr
        self.bar: tqdm | None = None
        if _is_tty(self.stream):
            self.bar = tqdm(desc=run, unit="epoch", file=self.stream, leave=False)

    def __call__(self, report: EpochReport) -> None:
        epoch, epochs, row = report.epoch, report.epochs, report.row
        now = self.clock()
        if epoch <= self.epoch:  # a new fit of the same run (a `validated` fold, the refit)
            self.start, self.last = now - row.get("seconds", 0.0), None
            if self.bar is not None:
                self.bar.close()
                self.bar = tqdm(desc=self.run, unit="epoch", file=self.stream, leave=False)
        self.epoch = epoch
        if self.bar is not None:
            self.bar.total = epochs
            self.bar.update(1)
        due = self.last is None or now - self.last >= self.every_s
        if due or epoch >= epochs:
            self.emit(epoch_line(self.run, epoch, epochs, row, now - self.start))
            self.last = now
        if epoch >= epochs and self.bar is not None:
            self.bar.close()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
