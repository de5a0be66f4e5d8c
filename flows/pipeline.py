"""The ``har-pipeline`` flow: ingest → train → report, the entrypoint ``make pipeline`` runs.

Run: ``python -m flows.pipeline [--source PATH_OR_URL] [--repeats N] [--epochs N]
[--architectures lstm cnn_lstm ...]`` (see ``--help``). The source defaults to ``$HAR_SOURCE``,
then the official UCI URL. Prints the report folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_args

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from data_contracts.dataset import DEFAULT_PROFILE
from flows.ingest import ingest
from flows.params import (
    Architectures,
    BaseSeed,
    Device,
    Dispatch,
    Epochs,
    Profile,
    Protocol,
    Repeats,
    StudyId,
    StudyPrefix,
    Workers,
)
from flows.report import report
from flows.train import train
from har_data.home_check import check_data_home
from har_models.protocol import DEFAULT_PROTOCOL, PROTOCOLS
from har_models.study import DEFAULT_BASE_SEED, DEFAULT_REPEATS, default_study_id
from tasks.summary import publish_run_summary


@flow(name="har-pipeline", log_prints=True)
def pipeline(
    source: str | None = None,
    expected_sha256: str | None = None,
    profile: Profile = DEFAULT_PROFILE,
    architectures: Architectures | None = None,
    repeats: Repeats = DEFAULT_REPEATS,
    protocol: Protocol = DEFAULT_PROTOCOL,
    epochs: Epochs | None = None,
    device: Device = "auto",
    base_seed: BaseSeed = DEFAULT_BASE_SEED,
    data_home: str | None = None,
    study_id: StudyId | None = None,
    dispatch: Dispatch = "local",
    dask_address: str | None = None,
    max_workers: Workers | None = None,
    study_prefix: StudyPrefix = "",
) -> str:
    """Ingest the archive, train every architecture ``repeats`` times, report; returns the
    report folder. ``source`` None means ``$HAR_SOURCE``, then the official UCI URL. Without
    ``study_id`` the study is ``study_prefix`` + the run's scheduled time (UTC). Fails
    (non-zero exit) when the data home is not writable or not one run completed."""
    check_data_home(data_home, ("raw", "tensors", "locks", "runs", "reports"))
    study_id = study_id or default_study_id(study_prefix, flow_run.scheduled_start_time)
    data = ingest(
        source=source,
        expected_sha256=expected_sha256,
        data_home=data_home,
        profile=profile,
    )
    get_run_logger().info("data %s (reused: %s)", data.archive_sha256[:12], data.reused)
    study_dir = train(
        architectures=architectures,
        repeats=repeats,
        protocol=protocol,
        epochs=epochs,
        device=device,
        base_seed=base_seed,
        data_home=data_home,
        study_id=study_id,
        dispatch=dispatch,
        dask_address=dask_address,
        max_workers=max_workers,
    )
    report_dir = report(study_id=Path(study_dir).name, data_home=data_home)
    publish_run_summary(report_dir)  # the result on this run: log lines and artifacts
    return report_dir


def parse_args(argv: list[str] | None = None) -> dict[str, Any]:
    """The CLI's options as ``pipeline`` keyword arguments."""
    p = argparse.ArgumentParser(
        prog="python -m flows.pipeline",
        description="Run the whole HAR pipeline (ingest → train → report) as one Prefect flow.",
        epilog="Quick version: --repeats 2 --epochs 3 --architectures lstm cnn_lstm",
    )
    p.add_argument("--source", default=None, help="archive URL or path (default $HAR_SOURCE, "
                   "then the official UCI URL)")  # fmt: skip
    p.add_argument("--expected-sha256", default=None, help="refuse an archive with another hash")
    p.add_argument("--profile", choices=get_args(Profile), default=DEFAULT_PROFILE,
                   help="'custom' skips the official row/subject counts (e.g. synthetic data)")  # fmt: skip
    p.add_argument("--architectures", nargs="+", default=None, metavar="NAME",
                   help="default: every registered architecture")  # fmt: skip
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="runs per architecture")
    p.add_argument("--protocol", choices=PROTOCOLS, default=DEFAULT_PROTOCOL)
    p.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--base-seed", type=int, default=DEFAULT_BASE_SEED)
    p.add_argument("--data-home", default=None, help="default $HAR_HOME or ./har-data")
    p.add_argument("--study-id", default=None, help="default: a UTC timestamp")
    p.add_argument("--study-prefix", default="", help="put before the default study id's time")
    p.add_argument("--dispatch", choices=["local", "dask", "deployment"], default="local")
    p.add_argument("--dask-address", default=None, help="scheduler of an existing Dask cluster")
    p.add_argument("--max-workers", type=int, default=None, help="concurrent training runs")
    return vars(p.parse_args(argv))


def main(argv: list[str] | None = None) -> str:
    report_dir = pipeline(**parse_args(argv))
    print(f"report: {report_dir}/report.html")
    return report_dir


if __name__ == "__main__":
    main()
