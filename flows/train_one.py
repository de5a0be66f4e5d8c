"""The ``har-train-one`` flow: exactly one (architecture, seed) run, for deployments.

The ``har-train`` flow with ``dispatch="deployment"`` starts one run of this flow per
training run (deployment ``har-train-one/gpu``); it writes into the same study layout with
the same plain function as the task, including the run's record
``records/<run_id>.json``: the dispatching flow reads it from the shared data home.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from flows.help import documented
from flows.params import ArchitectureName, Device, Epochs, Protocol, StudyId
from har_data.home_check import check_data_home
from har_models.protocol import DEFAULT_PROTOCOL
from har_models.results import RunRecord
from har_models.run import RunParams, resolve_training_data
from tasks.training import train_logged


@flow(name="har-train-one", log_prints=True)
@documented()
def train_one(
    study_id: StudyId,
    architecture: ArchitectureName,
    repeat: Annotated[int, Field(ge=0)] = 0,
    seed: Annotated[int, Field(ge=0)] = 0,
    protocol: Protocol = DEFAULT_PROTOCOL,
    epochs: Epochs | None = None,
    device: Device = "auto",
    data_home: str | None = None,
    recipe_overrides: dict[str, Any] | None = None,
) -> RunRecord:
    """Train (or reuse) one run and write its record into the study folder."""
    check_data_home(data_home, ("runs",))
    home, data_sha256 = resolve_training_data(data_home)
    return train_logged(
        RunParams(
            study_id=study_id,
            architecture=architecture,
            repeat=repeat,
            seed=seed,
            protocol=protocol,
            data_home=str(home.root),
            data_sha256=data_sha256,
            epochs=epochs,
            device=device,
            recipe_overrides=recipe_overrides or {},
        )
    )
