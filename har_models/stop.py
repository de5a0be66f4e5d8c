"""A polite stop: SIGINT or SIGTERM (Ctrl-C, a worker shutting down, a cancelled flow run)
asks every training loop in the process to stop at its next batch.

``fit`` calls :func:`check_stop` once per batch, so a run stops within one batch, raises
:class:`Interrupted`, and :func:`har_models.run.train_one_run` records it as interrupted;
the next run of the study trains it again (its record is not ``completed``).
:func:`stop_on_signals` installs the handlers; without it nothing here touches signals.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_STOP = threading.Event()


class Interrupted(Exception):
    """Training stopped because the process was asked to stop (a signal)."""


def request_stop() -> None:
    _STOP.set()


def clear_stop() -> None:
    _STOP.clear()


def stop_requested() -> bool:
    return _STOP.is_set()


def check_stop() -> None:
    """Raise :class:`Interrupted` once a stop was requested."""
    if _STOP.is_set():
        raise Interrupted("stopped on request (SIGINT/SIGTERM or a cancelled flow run)")


def _forward_to_children(signum: int) -> None:
    """Local process-pool workers train too, and a worker's SIGTERM reaches only us."""
    for child in multiprocessing.active_children():
        if child.pid is None:  # not started yet: nothing to signal
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)


Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@contextmanager
def stop_on_signals(chain: bool) -> Iterator[None]:
    """While inside, SIGINT/SIGTERM request a stop (and reach local pool workers).

    ``chain=True`` (a process whose main thread waits for training threads): the previous
    handler runs at once too, so the wait ends (Prefect's raises ``TerminationSignal``,
    Python's ``KeyboardInterrupt``) while the threads stop at their next batch.
    ``chain=False`` (the main thread trains): nothing is raised mid-batch; the loop raises
    :class:`Interrupted`, and on the way out the signal is handed to the previous handler
    so that whoever owns it (Prefect's engine: a cancellation) still sees it.
    Off the main thread (where signals cannot be handled) it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Handler] = {}
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        request_stop()
        _forward_to_children(signum)
        if chain:
            _call(previous[signum], signum, frame)

    clear_stop()
    for sig in STOP_SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        if received and not chain:
            _call(previous[received[0]], received[0], None)
        clear_stop()


def _call(handler: Handler, signum: int, frame: FrameType | None) -> None:
    """What the handler that was there before would have done (a callable is called)."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL and signum == signal.SIGINT:
        raise KeyboardInterrupt
