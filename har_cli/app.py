"""The ``har`` command: the whole product from one entry point.

Commands are imported only when run (``har --help`` and ``har models`` do not start Prefect
or Great Expectations); the one-line summaries in ``har --help`` are read from the same
docstrings without importing them. Exit codes: 0 success, 1 failure, 2 usage error, 130
interrupted. Errors are one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import ast
import atexit
import importlib.util
import logging
import os
import re
import sys
from functools import cache
from pathlib import Path
from typing import Annotated

from cyclopts import App, Parameter
from cyclopts.exceptions import CycloptsError
from rich.console import Console

from har_cli.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    hide_tracebacks_in_terminal_logs,
    one_line,
    print_error,
    quiet_prefect_console_while_running,
    set_debug,
)

# command -> (where it is implemented, where its docstring is)
COMMANDS: dict[str, tuple[str, str]] = {
    "pipeline": ("har_cli.flow_commands:pipeline", "flows.pipeline:pipeline"),
    "ingest": ("har_cli.flow_commands:ingest", "flows.ingest:ingest"),
    "train": ("har_cli.flow_commands:train", "flows.train:train"),
    "report": ("har_cli.flow_commands:report", "flows.report:report"),
    "models": ("har_cli.catalog:models", "har_cli.catalog:models"),
    "studies": ("har_cli.catalog:studies", "har_cli.catalog:studies"),
    "best": ("har_cli.catalog:best", "har_cli.catalog:best"),
    "predict": ("har_cli.predict:predict", "har_cli.predict:predict"),
    "export": ("har_cli.export:export", "har_cli.export:export"),
}
SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Raises|Example|Examples):\s*$")


@cache
def docstring_of(target: str) -> str:
    """The docstring of ``module:function``, read from its source without importing it."""
    module, _, name = target.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return ast.get_docstring(node) or ""
    return ""


def description_of(target: str) -> str:
    """The docstring up to its ``Args:`` section: the command's description."""
    lines = []
    for line in docstring_of(target).splitlines():
        if SECTION.match(line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _version() -> str:
    from har_data.tensors import package_version

    return package_version()


def _usage_error_line(e: CycloptsError) -> str:
    return f"{PROG}: error: {one_line(e)} (see '{PROG} --help')"


def build_app() -> App:
    app = App(
        name=PROG,
        help=(
            "Human activity recognition on the UCI HAR dataset: run the pipeline, list models "
            "and studies, predict on your own recordings, export a trained model."
        ),
        version=_version,
        help_format="restructuredtext",
        default_parameter=Parameter(negative=(), consume_multiple=True),
        error_formatter=_usage_error_line,
        # One unwrapped line on stderr, whatever the terminal's width.
        error_console=Console(stderr=True, soft_wrap=True, highlight=False, markup=False),
        result_action="return_value",
    )
    for order, (name, (target, doc)) in enumerate(COMMANDS.items()):
        app.command(target, name=name, help=description_of(doc), sort_key=order)
    return app


app = build_app()


@app.meta.default
def _launcher(
    *tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)],
    debug: Annotated[bool, Parameter(negative=())] = False,
) -> int:
    """Run a command.

    Args:
        debug: Show the full traceback of an error (and Prefect's, in its log lines).
    """
    set_debug(debug)
    try:
        with quiet_prefect_console_while_running():  # Prefect, when a flow command imports it
            hide_tracebacks_in_terminal_logs()  # loggers configured already
            return _run(tokens, debug)
    finally:
        set_debug(False)  # `main` may run again in this process


def _run(tokens: tuple[str, ...], debug: bool) -> int:
    try:
        result = app(tokens)
    except SystemExit as e:  # usage errors (2) and --help/--version (0) from the parser
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except BrokenPipeError:  # `har ... | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        if debug:
            raise
        # Prefect logs the ephemeral server's shutdown at exit; keep the error the last line
        # (at exit only: a process that calls `main` again keeps its log levels).
        atexit.register(logging.getLogger("prefect").setLevel, logging.WARNING)
        print_error(e)
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """The console script: ``har [--debug] COMMAND [OPTIONS]``."""
    tokens = sys.argv[1:] if argv is None else list(argv)
    try:
        code = app.meta(tokens)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else EXIT_USAGE
    return int(code) if isinstance(code, int) else EXIT_OK


def run() -> None:
    sys.exit(main())
