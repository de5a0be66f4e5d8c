"""The ``har-train`` flow: every architecture x repeats, cached, retried, results per study.

Orchestration only: parameters are validated (pydantic), runs fan out to the chosen task
runner, each finished run refreshes ``runs/<study-id>/metrics.parquet`` and the artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.futures import as_completed
from pydantic import Field

from har_data.layout import DataHome
from har_models.results import RunRecord
from tasks.dispatch import dispatch_run_task, make_task_runner
from tasks.settings import ArchitectureName, Dispatch, Epochs, Protocol, Repeats, TrainSettings
from tasks.settings import Workers as MaxWorkers
from tasks.study import record_progress
from tasks.train_run import failed_record, resolve_training_data
from tasks.training import train_run_task


@flow(name="har-train", log_prints=True)
def train(
    architectures: list[ArchitectureName] | None = None,
    repeats: Repeats = 10,
    protocol: Protocol = "published",
    epochs: Epochs | None = None,
    device: str = "auto",
    base_seed: Annotated[int, Field(ge=0)] = 0,
    data_home: str | None = None,
    study_id: str | None = None,
    dispatch: Dispatch = "local",
    dask_address: str | None = None,
    max_workers: MaxWorkers | None = None,
) -> str:
    """Train ``repeats`` runs of each architecture; returns the study folder."""
    settings = TrainSettings(
        **{k: v for k, v in locals().items() if v is not None or k == "architectures"}
    )
    logger = get_run_logger()
    data = resolve_training_data(settings.data_home)
    study_dir = DataHome.resolve(settings.data_home).study_dir(settings.study_id).resolve()
    study_dir.mkdir(parents=True, exist_ok=True)
    runner, threads = make_task_runner(
        settings.dispatch, settings.device, settings.max_workers, settings.dask_address
    )
    base_task = dispatch_run_task if settings.dispatch == "deployment" else train_run_task
    run_task = base_task.with_options(result_storage=Path(data["results_dir"]))
    plan = [(a, r) for a in settings.architectures for r in range(settings.repeats)]
    logger.info("study %s: %d runs -> %s", settings.study_id, len(plan), study_dir)

    records: list[RunRecord] = []
    with runner:
        futures = {}
        for arch, repeat in plan:
            params = {
                "study_dir": str(study_dir),
                "study_id": settings.study_id,
                "architecture": arch,
                "repeat": repeat,
                "seed": settings.seed(repeat),
                "protocol": settings.protocol,
                "train_path": data["train_path"],
                "test_path": data["test_path"],
                "data_sha256": data["data_sha256"],
                "epochs": settings.epochs,
                "device": settings.device,
                "threads": threads,
            }
            futures[runner.submit(run_task, params)] = (arch, repeat)
        for future in as_completed(list(futures)):
            arch, repeat = futures[future]
            result = future.result(raise_on_failure=False)
            if not isinstance(result, RunRecord):
                logger.error("%s-r%02d failed after retries: %s", arch, repeat, result)
                result = failed_record(
                    study_id=settings.study_id,
                    architecture=arch,
                    repeat=repeat,
                    seed=settings.seed(repeat),
                    protocol=settings.protocol,
                    error=result if isinstance(result, BaseException) else RuntimeError(result),
                )
            records.append(result)
            record_progress(records, str(study_dir), len(plan))
    return str(study_dir)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description="Train the HAR architectures (Prefect flow har-train).")
    p.add_argument("--architectures", nargs="+", default=None)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--protocol", default="published")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--base-seed", type=int, default=0)
    p.add_argument("--data-home", default=None)
    p.add_argument("--study-id", default=None)
    p.add_argument("--dispatch", default="local")
    p.add_argument("--dask-address", default=None)
    p.add_argument("--max-workers", type=int, default=None)
    print(train(**vars(p.parse_args())))
