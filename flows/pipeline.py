"""The ``har-pipeline`` flow: ingest → train → report, the entrypoint ``make pipeline`` runs.

Run: ``har pipeline [--source PATH_OR_URL] [--repeats N] [--epochs N]
[--architectures lstm cnn_lstm ...]`` (see ``--help``; ``python -m flows.pipeline`` is the
same). The source defaults to ``$HAR_SOURCE``, then the official UCI URL. Prints the report
folder.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from data_contracts.dataset import DEFAULT_PROFILE
from flows.help import documented
from flows.ingest import ingest
from flows.params import (
    Architectures,
    BaseSeed,
    Batching,
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
from har_models.protocol import DEFAULT_PROTOCOL
from har_models.study import DEFAULT_BASE_SEED, DEFAULT_REPEATS, default_study_id
from tasks.summary import publish_run_summary


@flow(name="har-pipeline", log_prints=True)
@documented()
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
    batching: Batching = "auto",
    study_prefix: StudyPrefix = "",
) -> str:
    """Run the whole pipeline: ingest the archive, train every architecture, write the report.

    Returns the report folder. Without ``study_id`` the study is ``study_prefix`` + the run's
    scheduled time (UTC). Fails (non-zero exit) when the data home is not writable or not one
    run completed. Quick version: ``--repeats 2 --epochs 3 --architectures lstm
    cnn_lstm``.
    """
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
        batching=batching,
    )
    report_dir = report(study_id=Path(study_dir).name, data_home=data_home)
    publish_run_summary(report_dir)  # the result on this run: log lines and artifacts
    return report_dir


if __name__ == "__main__":  # `python -m flows.pipeline ...` is `har pipeline ...`
    import sys

    from har_cli.app import main

    sys.exit(main(["pipeline", *sys.argv[1:]]))
