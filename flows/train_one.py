"""The ``har-train-one`` flow: exactly one (architecture, seed) run, for deployments.

The ``har-train`` flow with ``dispatch="deployment"`` starts one run of this flow per
training run (deployment ``har-train-one/gpu``); it writes into the same study layout with
the same plain function as the task, which also writes the run's record to
``records/<run_id>.json`` in the study: the dispatching flow reads it from the shared data home.
"""

from __future__ import annotations

from typing import Annotated

from prefect import flow
from pydantic import Field

from har_data.layout import DataHome
from har_models.results import RunRecord
from tasks.settings import STUDY_ID_PATTERN, ArchitectureName, Epochs, Protocol
from tasks.train_run import resolve_training_data, train_one_run


@flow(name="har-train-one", persist_result=True, log_prints=True)
def train_one(
    study_id: Annotated[str, Field(pattern=STUDY_ID_PATTERN)],
    architecture: ArchitectureName,
    repeat: Annotated[int, Field(ge=0)] = 0,
    seed: Annotated[int, Field(ge=0)] = 0,
    protocol: Protocol = "published",
    epochs: Epochs | None = None,
    device: str = "auto",
    data_home: str | None = None,
) -> RunRecord:
    data = resolve_training_data(data_home)
    study_dir = DataHome.resolve(data_home).study_dir(study_id).resolve()
    study_dir.mkdir(parents=True, exist_ok=True)
    return train_one_run(
        study_dir=str(study_dir),
        study_id=study_id,
        architecture=architecture,
        repeat=repeat,
        seed=seed,
        protocol=protocol,
        train_path=data["train_path"],
        test_path=data["test_path"],
        data_sha256=data["data_sha256"],
        epochs=epochs,
        device=device,
    )
