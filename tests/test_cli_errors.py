"""One clear line per error (issue 18, item 8): the message without its traceback on the
terminal, in this process and in the worker processes Prefect starts."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError

from har_cli.errors import error_line, one_line, quiet_prefect_console
from har_cli.terminal_log import TerminalFormatter


def _record_with_traceback() -> logging.LogRecord:
    try:
        raise ValueError("tensors/train.parquet: bad row 7")
    except ValueError:
        return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1,
                                 "Encountered exception", None, sys.exc_info())  # fmt: skip


def test_terminal_formatter_keeps_the_message_and_drops_the_traceback() -> None:
    record = _record_with_traceback()
    text = TerminalFormatter("%(levelname)s | %(message)s").format(record)
    assert text == "ERROR | Encountered exception"
    assert record.exc_info is not None  # the API log handler still gets the traceback


@pytest.mark.integration  # a subprocess
def test_prefect_workers_inherit_the_quiet_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_LOGGING_SETTINGS_PATH", "")  # restored after the test
    path = quiet_prefect_console(tmp_path)
    assert path is not None and "har_cli.terminal_log.TerminalFormatter" in path.read_text()
    # A fresh interpreter (as a process-pool or Dask worker is) configures Prefect from it.
    probe = (
        "import logging; from prefect.logging.configuration import setup_logging; "
        "setup_logging(); "
        "print(sorted({type(h.formatter).__name__ for h in logging.getLogger().handlers}))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "TerminalFormatter" in run.stdout


def test_a_users_own_logging_config_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_LOGGING_SETTINGS_PATH", "/etc/my-logging.yml")
    folder = tmp_path / "scratch"
    folder.mkdir()
    assert quiet_prefect_console(folder) is None
    assert list(folder.iterdir()) == []


def test_error_lines() -> None:
    class P(BaseModel):
        repeats: int = Field(ge=1)

    with pytest.raises(ValidationError) as info:
        P(repeats=0)
    assert (
        one_line(info.value)
        == "invalid parameter repeats: Input should be greater than or equal to 1"
    )
    assert (
        error_line(FileNotFoundError("no checkpoint at x.pt"))
        == "har: error: no checkpoint at x.pt"
    )
    assert error_line(ValueError("a\n  b")) == "har: error: a b"
    bug = error_line(ZeroDivisionError("division by zero"))
    assert bug == (
        "har: error: ZeroDivisionError: division by zero "
        "(an unexpected error; run with --debug for the traceback)"
    )


def test_the_environment_is_restored_after_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    from har_cli.app import main

    before = os.environ.get("PREFECT_LOGGING_SETTINGS_PATH")
    assert main(["models", "--json"]) == 0
    assert os.environ.get("PREFECT_LOGGING_SETTINGS_PATH") == before


def test_a_failed_command_leaves_logging_as_it_was(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Callers that run ``main`` in their process keep their log levels and debug state."""
    from har_cli.app import main
    from har_cli.errors import debug_enabled

    before = logging.getLogger("prefect").level
    assert main(["best", "nope", "--data-home", str(tmp_path)]) == 1
    assert logging.getLogger("prefect").level == before
    with pytest.raises(FileNotFoundError):
        main(["--debug", "best", "nope", "--data-home", str(tmp_path)])
    assert not debug_enabled()
