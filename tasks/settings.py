"""Validated parameters of the training flow: bad values fail before anything runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from har_models.registry import ARCHITECTURES

# Built from the registry, so Prefect's parameter schema lists exactly the valid names.
ArchitectureName = Literal[ARCHITECTURES]  # type: ignore[valid-type]
Protocol = Literal["published", "validated"]
Dispatch = Literal["local", "dask", "deployment"]
Repeats = Annotated[int, Field(ge=1, le=1000, description="training runs per architecture")]
Epochs = Annotated[int, Field(ge=1, description="override every recipe's epoch count")]
Workers = Annotated[int, Field(ge=1, description="concurrent training runs")]
STUDY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


def default_study_id() -> str:
    """UTC timestamp, e.g. ``20261123T101500Z``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def artifact_key(study_id: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return "har-train-" + re.sub(r"[^a-z0-9-]+", "-", study_id.lower()).strip("-")


class TrainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    architectures: list[str] = Field(default_factory=lambda: list(ARCHITECTURES), min_length=1)
    repeats: Repeats = 10
    protocol: Protocol = "published"
    epochs: Epochs | None = None
    device: str = "auto"
    base_seed: Annotated[int, Field(ge=0)] = 0
    data_home: str | None = None
    study_id: Annotated[str, Field(pattern=STUDY_ID_PATTERN)] = Field(
        default_factory=default_study_id
    )
    dispatch: Dispatch = "local"
    dask_address: str | None = None
    max_workers: Workers | None = None

    @field_validator("architectures", mode="before")
    @classmethod
    def _known_architectures(cls, value: object) -> object:
        if value is None:
            return list(ARCHITECTURES)
        names = [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]
        unknown = [n for n in names if n not in ARCHITECTURES]
        if unknown:
            raise ValueError(
                f"unknown architecture(s) {unknown}; valid architectures: {', '.join(ARCHITECTURES)}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"architectures listed twice: {names}")
        return names

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
            raise ValueError(f"device must be auto, cpu, mps, cuda or cuda:N, got {value!r}")
        return value

    def seed(self, repeat: int) -> int:
        return self.base_seed + repeat
