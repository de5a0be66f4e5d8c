"""One clear line per error: what the user sees when a command fails.

A failure prints ``har: error: <what and where>`` on stderr and exits 1 (2 for a usage
error, 130 for Ctrl-C). Tracebacks are for developers: ``--debug`` prints them, and a flow's
traceback stays in its Prefect log (the API handler keeps it), but the terminal's log
handlers print only the log line.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROG = "har"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_LINE = 600
_debug = False

# Errors that describe the user's input, parameters or environment: their message is the
# whole story. Anything else is a bug; it gets the same one line plus a hint.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, LookupError)


def set_debug(on: bool) -> None:
    global _debug
    _debug = on


def debug_enabled() -> bool:
    return _debug


def _pydantic_line(exc: Exception) -> str | None:
    errors = getattr(exc, "errors", None)
    if not callable(errors) or type(exc).__name__ != "ValidationError":
        return None
    try:
        items = errors()
    except Exception:
        return None
    parts = []
    for item in items:
        loc = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
    return "invalid parameter " + "; ".join(parts)


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, shortened, with no traceback."""
    text = _pydantic_line(exc) if isinstance(exc, Exception) else None
    if text is None:
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
            text = f"{exc.filename}: {text}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 3] + "..."


def is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, USER_ERRORS) or type(exc).__name__ == "ParameterTypeError"


def error_line(exc: BaseException) -> str:
    """``har: error: ...`` for ``exc``; an unexpected error names its type and ``--debug``."""
    if is_user_error(exc):
        return f"{PROG}: error: {one_line(exc)}"
    return (
        f"{PROG}: error: {type(exc).__name__}: {one_line(exc)} "
        "(an unexpected error; run with --debug for the traceback)"
    )


def print_error(exc: BaseException) -> None:
    print(error_line(exc), file=sys.stderr, flush=True)


class _NoTraceback(logging.Formatter):
    """Formats like ``inner`` but leaves the exception's traceback out (on a copy of the
    record, so other handlers, such as Prefect's API log, still get it)."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = copy.copy(record)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return self.inner.format(record)


SETTINGS_VAR = "PREFECT_LOGGING_SETTINGS_PATH"
PREFECT_FORMATTER = "(): prefect.logging.formatters.PrefectFormatter"
TERMINAL_FORMATTER = "(): har_cli.terminal_log.TerminalFormatter"


def quiet_prefect_console(folder: Path) -> Path | None:
    """Before Prefect is imported: point ``PREFECT_LOGGING_SETTINGS_PATH`` at Prefect's own
    logging configuration with the console formatter swapped for
    :class:`har_cli.terminal_log.TerminalFormatter`, so this process and the worker
    processes it starts (process pools, a local Dask cluster) print log lines without
    tracebacks. A configuration of the user's own is left alone. Returns the file written."""
    if os.environ.get(SETTINGS_VAR) or _debug:
        return None
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    default = Path(next(iter(spec.submodule_search_locations))) / "logging" / "logging.yml"
    try:
        text = default.read_text(encoding="utf-8")
    except OSError:
        return None
    if text.count(PREFECT_FORMATTER) != 1:  # another Prefect layout: keep its default
        return None
    path = folder / "prefect-logging.yml"
    path.write_text(text.replace(PREFECT_FORMATTER, TERMINAL_FORMATTER), encoding="utf-8")
    os.environ[SETTINGS_VAR] = str(path)
    return path


@contextmanager
def quiet_prefect_console_while_running() -> Iterator[None]:
    """:func:`quiet_prefect_console` for the duration of a command, in a scratch folder;
    the environment is restored afterwards (``main`` may run again in one process)."""
    before = os.environ.get(SETTINGS_VAR)
    with tempfile.TemporaryDirectory(prefix="har-") as scratch:
        try:
            quiet_prefect_console(Path(scratch))
            yield
        finally:
            if before is None:
                os.environ.pop(SETTINGS_VAR, None)
            else:
                os.environ[SETTINGS_VAR] = before


def terminal_handlers() -> list[logging.Handler]:
    """The handlers that write to stdout or stderr, on every configured logger."""
    streams = {id(s) for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)}
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    found: list[logging.Handler] = []
    for lg in loggers:
        for h in getattr(lg, "handlers", ()):
            stream = getattr(h, "stream", None)
            if isinstance(h, logging.StreamHandler) and id(stream) in streams and h not in found:
                found.append(h)
    return found


def hide_tracebacks_in_terminal_logs() -> None:
    """Log lines on the terminal keep their message and lose their traceback (unless
    ``--debug``). Call again after a library configures logging (importing Prefect does)."""
    if _debug:
        return
    for h in terminal_handlers():
        if not isinstance(h.formatter, _NoTraceback):
            h.setFormatter(_NoTraceback(h.formatter))
