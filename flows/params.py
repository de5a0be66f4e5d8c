"""The flows' parameter types: one declaration each, read by the flows, the server-side
parameter schema of every deployment, and the command line. A value a run would reject is
rejected here, before anything runs. Their help text is the flows' docstrings (``Args:``),
the one place both the schema and ``har --help`` read it from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from data_contracts.dataset import Profile as Profile
from har_models.device import DEVICE_PATTERN
from har_models.protocol import DEFAULT_PROTOCOL
from har_models.protocol import Protocol as Protocol
from har_models.registry import ARCHITECTURES
from har_models.study import (
    DEFAULT_BASE_SEED,
    DEFAULT_REPEATS,
    STUDY_ID_PATTERN,
    STUDY_PREFIX_PATTERN,
    default_study_id,
    seed_of,
)

# Built from the registry, so Prefect's parameter schema lists exactly the valid names.
# mypy needs literal values where the registry gives a tuple built at run time.
ArchitectureName = Literal[ARCHITECTURES]  # type: ignore[valid-type]
Architectures = Annotated[
    list[ArchitectureName], Field(min_length=1, json_schema_extra={"uniqueItems": True})
]
Dispatch = Literal["local", "dask", "deployment"]
Batching = Literal["auto", "solo", "batched"]
Repeats = Annotated[int, Field(ge=1, le=1000)]
Epochs = Annotated[int, Field(ge=1)]
Workers = Annotated[int, Field(ge=1)]
BaseSeed = Annotated[int, Field(ge=0)]
Device = Annotated[str, Field(pattern=DEVICE_PATTERN)]
StudyId = Annotated[str, Field(pattern=STUDY_ID_PATTERN)]

StudyPrefix = Annotated[str, Field(pattern=STUDY_PREFIX_PATTERN)]


class TrainSettings(BaseModel):
    """The training flow's parameters after defaults are filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    architectures: list[str] = Field(default_factory=lambda: list(ARCHITECTURES), min_length=1)
    repeats: Repeats = DEFAULT_REPEATS
    protocol: Protocol = DEFAULT_PROTOCOL
    epochs: Epochs | None = None
    device: Device = "auto"
    base_seed: BaseSeed = DEFAULT_BASE_SEED
    data_home: str | None = None
    study_id: StudyId = Field(default_factory=default_study_id)
    dispatch: Dispatch = "local"
    dask_address: str | None = None
    max_workers: Workers | None = None
    batching: Batching = "auto"

    @field_validator("architectures", mode="before")
    @classmethod
    def _known_architectures(cls, value: object) -> object:
        if value is None:
            return list(ARCHITECTURES)
        if isinstance(value, str):
            names = [value]
        elif isinstance(value, Iterable):
            names = list(value)
        else:
            raise TypeError(f"'{type(value).__name__}' object is not iterable")
        unknown = [n for n in names if n not in ARCHITECTURES]
        if unknown:
            raise ValueError(
                f"unknown architecture(s) {unknown}; valid architectures: {', '.join(ARCHITECTURES)}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"architectures listed twice: {names}")
        return names

    def seed(self, repeat: int) -> int:
        return seed_of(repeat, self.base_seed)


def artifact_key(study_id: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return "har-train-" + re.sub(r"[^a-z0-9-]+", "-", study_id.lower()).strip("-")
