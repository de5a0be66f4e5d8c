"""The data home (``HAR_HOME``, default ``./har-data``): where every artifact of the pipeline lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "har-data"


def default_home() -> Path:
    return Path(os.environ.get("HAR_HOME", DEFAULT_HOME))


@dataclass(frozen=True)
class DataHome:
    root: Path

    @classmethod
    def resolve(cls, root: str | os.PathLike[str] | None = None) -> DataHome:
        return cls(Path(root) if root is not None else default_home())

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def tensors(self) -> Path:
        return self.root / "tensors"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def split_path(self, split: str) -> Path:
        return self.tensors / f"{split}.parquet"

    def study_dir(self, study_id: str) -> Path:
        return self.runs / study_id

    def report_dir(self, study_id: str) -> Path:
        return self.reports / study_id
