"""A polite stop (har_models.stop) and per-epoch progress (har_models.progress), in process."""

from __future__ import annotations

import io
import os
import signal
import threading
from pathlib import Path

import pytest
import torch

from har_data.layout import DataHome
from har_models.progress import EpochProgress, epoch_line
from har_models.results import find_record
from har_models.run import train_one_run
from har_models.stop import (
    Interrupted,
    clear_stop,
    request_stop,
    stop_on_signals,
    stop_requested,
)
from har_models.training import EpochReport
from tasks.study import remove_if_empty
from tests.synthetic_tensors import run_params, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROW = {"train_loss": 0.5, "train_accuracy": 0.8, "val_loss": float("nan"), "seconds": 1.0}


def report(epoch: int, epochs: int) -> EpochReport:
    return EpochReport(epoch, epochs, ROW, torch.nn.Identity(), None)


@pytest.fixture
def home(tmp_path: Path) -> DataHome:
    return write_synthetic_tensors(tmp_path / "home", n_per_class_subject=3)


@pytest.fixture(autouse=True)
def _no_stop_left_behind() -> None:
    yield
    clear_stop()


def test_a_requested_stop_interrupts_the_run_and_records_it(home: DataHome) -> None:
    params = run_params(home, epochs=50)
    lines: list[str] = []

    def stop_after_two(report: EpochReport) -> None:
        lines.append(epoch_line("r", report.epoch, report.epochs, report.row, 1.0))
        if report.epoch == 2:
            request_stop()

    with pytest.raises(Interrupted):
        train_one_run(params, on_epoch=stop_after_two)
    assert len(lines) == 2  # stopped at the first batch of epoch 3
    record = find_record(params.study, params.run_id)
    assert record is not None and record.status == "interrupted"
    assert "Interrupted" in record.error
    assert not params.study.checkpoint(params.run_id).exists()

    clear_stop()  # the next run of the study trains it again and replaces the record
    done = train_one_run(run_params(home, epochs=1))
    assert done.status == "completed"
    assert find_record(params.study, params.run_id).status == "completed"  # type: ignore[union-attr]


def test_sigterm_requests_a_stop_and_reaches_the_previous_handler_after_the_batch() -> None:
    seen: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with stop_on_signals(chain=False):
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop_requested() and seen == []  # nothing raised mid-batch
        assert seen == [signal.SIGTERM]  # handed on when the training let go
        assert not stop_requested()
    finally:
        signal.signal(signal.SIGTERM, before)


def test_chained_sigint_interrupts_the_waiting_main_thread_at_once() -> None:
    stopped_in_thread = threading.Event()

    def training() -> None:
        while not stop_requested():
            threading.Event().wait(0.01)
        stopped_in_thread.set()

    worker = threading.Thread(target=training, daemon=True)
    # Python's own handler, as in a terminal (a pytest started in the background ignores SIGINT)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), stop_on_signals(chain=True):
            worker.start()
            try:
                os.kill(os.getpid(), signal.SIGINT)
                threading.Event().wait(5)  # interrupted by the signal
            finally:
                worker.join(5)  # as a task runner waits for its threads on the way out
    finally:
        signal.signal(signal.SIGINT, before)
    assert stopped_in_thread.is_set()


def test_progress_logs_one_epoch_at_most_every_few_seconds_and_always_the_last() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = EpochProgress("lstm-r00", lines.append, every_s=5, stream=io.StringIO(),
                             clock=lambda: now[0])  # fmt: skip
    for epoch in range(1, 11):
        now[0] += 2.0  # a 2 s epoch
        progress(report(epoch, 10))
    epochs = [int(line.split("epoch ")[1].split("/")[0]) for line in lines]
    assert epochs == [1, 4, 7, 10]  # every 6 s (5 s or more apart), and the last
    assert lines[0].startswith("lstm-r00 epoch 1/10: loss 0.5000, accuracy 80.0 %")
    assert progress.bar is None  # not a terminal: no progress bar


def test_progress_restarts_its_clock_for_each_fit_of_a_run() -> None:
    """A `validated` run fits several times (folds, then the refit): the time left of a new
    fit comes from its own epochs, not from the fits before it."""
    now = [0.0]
    lines: list[str] = []
    progress = EpochProgress("lstm-r00", lines.append, every_s=0, stream=io.StringIO(),
                             clock=lambda: now[0])  # fmt: skip
    for epoch in range(1, 4):  # a slow first fit: 100 s an epoch
        now[0] += 100.0
        progress(report(epoch, 3))
    now[0] += ROW["seconds"]  # the next fit's first epoch
    progress(report(1, 3))
    assert lines[-1].startswith("lstm-r00 epoch 1/3") and lines[-1].endswith(
        f"~{2 * ROW['seconds']:.0f} s left"
    )


def test_progress_bar_only_in_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = EpochProgress("lstm-r00", lambda line: None, stream=stream)
    progress(report(1, 2))
    progress(report(2, 2))
    assert progress.bar is not None and "lstm-r00" in stream.getvalue()


def test_a_study_stopped_before_any_result_leaves_no_folder(home: DataHome) -> None:
    study = home.study("stopped")
    (study.records).mkdir(parents=True)
    (study.records / ".lstm-r00.lock").touch()
    (study.root / ".lock").touch()
    assert remove_if_empty(study) and not study.root.exists()

    kept = home.study("kept")
    kept.records.mkdir(parents=True)
    (kept.records / "lstm-r00.json").write_text("{}")
    assert not remove_if_empty(kept) and kept.root.exists()
