"""Prefect's console log format without tracebacks: the formatter ``har`` gives Prefect's
console handler, in its own process and in the worker processes it starts.

Imported by Prefect's logging configuration (by name), never by ``har`` itself, so the
command line does not import Prefect until a flow runs.
"""

from __future__ import annotations

import copy
import logging

from prefect.logging.formatters import PrefectFormatter


def without_traceback(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of ``record`` without exception or stack text (other handlers, such as
    Prefect's API log, still get the original with its traceback)."""
    if not (record.exc_info or record.exc_text or record.stack_info):
        return record
    record = copy.copy(record)
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    return record


class TerminalFormatter(PrefectFormatter):
    """Prefect's standard console lines, each one line: the error's message stays, its
    traceback goes to the flow run's log in the Prefect API only."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(without_traceback(record))
