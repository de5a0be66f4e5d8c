"""The data home (``HAR_HOME``, default ``./har-data``): every path under it is spelled here.

```
raw/<sha256>.zip, raw/<sha256>/     archives by content and their extraction
tensors/{train,test}.parquet        the published splits, tensors/manifest.json names both
runs/<study-id>/                    one study: records/, history/, checkpoints/, metrics.parquet
reports/<study-id>/                 its report
prefect/                            the Prefect server's home (``make server``)
locks/                              file locks shared by concurrent runs
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from data_contracts.dataset import SPLITS
from har_data.settings import get_settings

MANIFEST = "manifest.json"


def default_home() -> Path:
    return get_settings().home


@dataclass(frozen=True)
class StudyLayout:
    """One study folder. Paths inside records are relative to :attr:`root`, so a study
    folder can be moved or mounted elsewhere and still read."""

    root: Path

    @classmethod
    def of(cls, study: StudyLayout | str | os.PathLike[str]) -> StudyLayout:
        """A layout from itself or from the study folder's path."""
        return study if isinstance(study, StudyLayout) else cls(Path(study))

    @property
    def study_id(self) -> str:
        return self.root.name

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.parquet"

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    def record(self, run_id: str) -> Path:
        return self.records / f"{run_id}.json"

    @staticmethod
    def history_rel(run_id: str) -> str:
        return f"history/{run_id}.parquet"

    @staticmethod
    def checkpoint_rel(run_id: str) -> str:
        return f"checkpoints/{run_id}.pt"

    def history(self, run_id: str) -> Path:
        return self.root / self.history_rel(run_id)

    def checkpoint(self, run_id: str) -> Path:
        return self.root / self.checkpoint_rel(run_id)


@dataclass(frozen=True)
class DataHome:
    root: Path

    @classmethod
    def resolve(cls, root: str | os.PathLike[str] | None = None) -> DataHome:
        """``root``, else ``HAR_HOME``, else ``./har-data``, as an absolute path."""
        return cls(Path(root if root is not None else default_home()).expanduser().absolute())

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def archive(self, sha256: str) -> Path:
        return self.raw / f"{sha256}.zip"

    def extraction(self, sha256: str) -> Path:
        return self.raw / sha256

    @property
    def tensors(self) -> Path:
        return self.root / "tensors"

    @property
    def manifest(self) -> Path:
        return self.tensors / MANIFEST

    def split_path(self, split: str) -> Path:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; splits: {', '.join(SPLITS)}")
        return self.tensors / f"{split}.parquet"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def study_dir(self, study_id: str) -> Path:
        return self.runs / study_id

    def study(self, study_id: str) -> StudyLayout:
        return StudyLayout(self.study_dir(study_id))

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def report_dir(self, study_id: str) -> Path:
        return self.reports / study_id

    @property
    def prefect(self) -> Path:
        return self.root / "prefect"

    @property
    def locks(self) -> Path:
        return self.root / "locks"
