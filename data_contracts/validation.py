"""Run Great Expectations suites on pandas summary frames and turn the result into words.

Each check is a small frame plus a suite; failures name the offending rows through
GE's ``unexpected_index_column_names`` (e.g. file and line), so errors point at the data.
GE is imported inside functions: it costs seconds to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Check:
    """One frame to validate, its expectations and the columns that identify a row."""

    name: str
    frame: pd.DataFrame
    expectations: list[Any]  # great_expectations.expectations.Expectation
    index_columns: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    title: str
    success: bool
    failures: list[str]
    rows: list[tuple[str, str, bool, str]]  # check, expectation, success, detail

    def markdown(self) -> str:
        status = "PASSED" if self.success else "FAILED"
        n_ok = sum(r[2] for r in self.rows)
        lines = [
            f"# {self.title}: {status}",
            "",
            f"{n_ok} of {len(self.rows)} expectations met (Great Expectations).",
            "",
        ]
        if self.failures:
            lines += ["## Failures", "", *(f"- {f}" for f in self.failures), ""]
        lines += [
            "## Expectations",
            "",
            "| check | expectation | ok | observed |",
            "|---|---|---|---|",
        ]
        for check, exp, ok, detail in self.rows:
            lines.append(f"| {check} | {exp} | {'yes' if ok else '**no**'} | {detail} |")
        return "\n".join(lines) + "\n"


def _describe(kwargs: dict[str, Any]) -> str:
    keep = {k: v for k, v in kwargs.items() if k not in ("batch_id", "result_format")}
    return ", ".join(f"{k}={v}" for k, v in keep.items())


def _detail(result: dict[str, Any]) -> str:
    if "observed_value" in result:
        return str(result["observed_value"])[:80]
    if "unexpected_count" in result:
        return f"{result['unexpected_count']} unexpected"
    return ""


def _locate(column: str, value: object) -> str:
    if column == "line":
        return f"line {value}"
    return str(value) if column in ("file", "first_seen") else f"{column} {value}"


def _failure(check: Check, exp_type: str, kwargs: dict[str, Any], result: dict[str, Any]) -> str:
    head = f"{check.name}: {exp_type}({_describe(kwargs)})"
    rows = result.get("unexpected_index_list") or []
    if rows and isinstance(rows[0], dict):
        shown = []
        for r in rows[:5]:
            where = " ".join(_locate(c, r[c]) for c in check.index_columns if c in r)
            vals = ", ".join(f"{k}={v}" for k, v in r.items() if k not in check.index_columns)
            shown.append(f"{where}: {vals}")
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
        return f"{head} failed at " + "; ".join(shown) + more
    if result.get("observed_value") is not None:
        return f"{head} failed: observed {result['observed_value']}"
    if result.get("details"):
        return f"{head} failed: {result['details']}"
    return f"{head} failed"


def run_checks(title: str, checks: list[Check]) -> ValidationReport:
    """Validate every check with an ephemeral GX context; never raises on failed data."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("har")
    failures: list[str] = []
    rows: list[tuple[str, str, bool, str]] = []
    for check in checks:
        asset = source.add_dataframe_asset(check.name)
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": check.frame}
        )
        suite = gx.ExpectationSuite(name=check.name, expectations=check.expectations)
        fmt: dict[str, Any] = {"result_format": "COMPLETE"}
        if check.index_columns:
            fmt["unexpected_index_column_names"] = check.index_columns
        outcome = batch.validate(suite, result_format=fmt)
        for res in outcome.results:
            cfg = res.expectation_config
            if cfg is None:  # GX attaches it to every result of a suite's validation
                raise RuntimeError(f"{check.name}: a validation result has no expectation")
            kwargs = dict(cfg.kwargs)
            label = f"{cfg.type}({_describe(kwargs)})"
            rows.append((check.name, label, bool(res.success), _detail(res.result)))
            if res.exception_info and res.exception_info.get("raised_exception"):
                msg = res.exception_info.get("exception_message")
                failures.append(f"{check.name}: {label} could not run: {msg}")
            elif not res.success:
                failures.append(_failure(check, cfg.type, kwargs, res.result))
    return ValidationReport(title, not failures, failures, rows)


class ContractError(ValueError):
    """Data broke its contract; the message lists each failed expectation and where."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(f"{report.title} failed:\n  " + "\n  ".join(report.failures))
