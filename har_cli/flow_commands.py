"""``har pipeline|ingest|train|report``: commands generated from the flows themselves.

Each command's options are the flow's parameters (name, type, default, constraints from
``flows/params.py``) and its help is the flow's docstring (``Args:`` section), the same two
sources Prefect builds a deployment's parameter schema from, so the command line, the
deployments and the flows cannot disagree. Parameters with a default become ``--options``;
required ones (``har report STUDY_ID``) are positional.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from prefect import Flow

from flows.ingest import ingest as ingest_flow
from flows.pipeline import pipeline as pipeline_flow
from flows.report import report as report_flow
from flows.train import train as train_flow
from har_cli.errors import hide_tracebacks_in_terminal_logs


def command_name(flow: Flow[..., Any]) -> str:
    """``har-pipeline`` -> ``pipeline``."""
    return flow.name.removeprefix("har-")


def cli_signature(fn: Callable[..., Any]) -> inspect.Signature:
    """The flow function's signature with every defaulted parameter keyword-only."""
    sig = inspect.signature(fn)
    params = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        if p.default is not inspect.Parameter.empty
        else p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in sig.parameters.values()
    ]
    return sig.replace(parameters=params, return_annotation=inspect.Signature.empty)


def flow_command(flow: Flow[..., Any], show: Callable[[Any], None]) -> Callable[..., None]:
    """A function with the flow's signature and docstring that runs the flow (a Prefect
    flow run, validated by Prefect again) and shows its result with ``show``."""
    fn = flow.fn

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> None:
        hide_tracebacks_in_terminal_logs()  # Prefect configured its handlers on import
        show(flow(*args, **kwargs))

    # inspect.signature reads __signature__; typeshed declares no such attribute on functions
    command.__signature__ = cli_signature(fn)  # type: ignore[attr-defined]
    command.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "return"}
    return command


def _show_report(report_dir: str) -> None:
    print(f"report: {report_dir}/report.html")


def _show_ingest(result: Any) -> None:
    print(result.model_dump_json(indent=2))


FLOWS: dict[str, Flow[..., Any]] = {
    command_name(f): f for f in (pipeline_flow, ingest_flow, train_flow, report_flow)
}
pipeline = flow_command(pipeline_flow, _show_report)
ingest = flow_command(ingest_flow, _show_ingest)
train = flow_command(train_flow, lambda study_dir: print(f"study: {study_dir}"))
report = flow_command(report_flow, _show_report)
