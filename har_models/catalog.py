"""What is there to use: the registered architectures, the studies trained in a data home
with their headline numbers, and the best checkpoint of a study.

Read from the registry and from the run records (plain JSON), never from Prefect.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

from har_data.layout import DataHome
from har_models.results import RecordError, RunRecord, load_records

Metric = Literal["accuracy", "macro_f1"]
METRICS: tuple[str, ...] = get_args(Metric)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    family: str
    n_params: int  # trainable (as Keras counts them), or a closed-form model's fitted numbers
    recipe: dict[str, object]
    recommended: bool
    note: str


def recommended_architecture() -> str | None:
    """The registry's recommendation, where it makes one."""
    from har_models import registry

    name = getattr(registry, "RECOMMENDED", None)
    return name if isinstance(name, str) and name in registry.REGISTRY else None


def model_catalog() -> list[ModelInfo]:
    """Every registered architecture, in registry order (imports PyTorch to count weights)."""
    from har_models.registry import ARCHITECTURES, REGISTRY, build_model

    best = recommended_architecture()
    out = []
    for name in ARCHITECTURES:
        spec = REGISTRY[name]
        model = build_model(name)
        n_params = model.parameter_count()
        out.append(
            ModelInfo(
                name=name,
                family=str(getattr(spec, "family", "")),
                n_params=n_params,
                recipe=spec.recipe.as_dict(),
                recommended=name == best,
                note=spec.note,
            )
        )
    return out


@dataclass(frozen=True)
class ArchitectureSummary:
    """One architecture's runs in a study: counts and the mean (± sample std) of each metric."""

    study_id: str
    architecture: str
    protocol: str
    completed: int
    failed: int
    accuracy_mean: float
    accuracy_std: float
    macro_f1_mean: float
    macro_f1_std: float
    best_run: str

    def as_dict(self) -> dict[str, object]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def study_ids(home: DataHome) -> list[str]:
    """Study folders under ``runs/`` that hold run records, oldest first."""
    if not home.runs.is_dir():
        return []
    found = [p for p in home.runs.iterdir() if p.is_dir() and (p / "records").is_dir()]
    return [p.name for p in sorted(found, key=lambda p: (p.stat().st_mtime, p.name))]


def study_records(home: DataHome, study_id: str) -> list[RunRecord]:
    study = home.study(study_id)
    if not study.records.is_dir():
        raise FileNotFoundError(f"no study {study_id!r} at {study.root} (see `har studies`)")
    return load_records(study)


def summarize(study_id: str, records: list[RunRecord]) -> list[ArchitectureSummary]:
    """Headline numbers per architecture of one study."""
    out = []
    for arch in sorted({r.architecture for r in records}):
        runs = [r for r in records if r.architecture == arch]
        done = [r for r in runs if r.status == "completed"]
        acc, f1 = _mean_std([r.accuracy for r in done]), _mean_std([r.macro_f1 for r in done])
        best = max(done, key=lambda r: (r.accuracy, r.run_id), default=None)
        out.append(
            ArchitectureSummary(
                study_id=study_id,
                architecture=arch,
                protocol=",".join(sorted({r.protocol for r in runs})),
                completed=len(done),
                failed=len(runs) - len(done),
                accuracy_mean=acc[0],
                accuracy_std=acc[1],
                macro_f1_mean=f1[0],
                macro_f1_std=f1[1],
                best_run=best.run_id if best else "",
            )
        )
    return out


def study_summaries(home: DataHome) -> tuple[list[ArchitectureSummary], list[str]]:
    """Summaries of every study in ``home``, and one line per study that could not be read."""
    rows: list[ArchitectureSummary] = []
    problems: list[str] = []
    for sid in study_ids(home):
        try:
            rows.extend(summarize(sid, study_records(home, sid)))
        except (RecordError, TypeError, OSError) as e:
            problems.append(f"{sid}: {e}")
    return rows, problems


@dataclass(frozen=True)
class BestRun:
    study_id: str
    run_id: str
    architecture: str
    metric: str
    value: float
    checkpoint: Path


def best_run(
    home: DataHome, study_id: str, metric: Metric = "accuracy", architecture: str | None = None
) -> BestRun:
    """The completed run with the highest ``metric`` (on test, as recorded) and a checkpoint
    on disk; ties go to the lower run id."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")
    study = home.study(study_id)
    records = study_records(home, study_id)
    done = [
        r
        for r in records
        if r.status == "completed"
        and r.checkpoint_path
        and (architecture is None or r.architecture == architecture)
        and not math.isnan(float(getattr(r, metric)))
    ]
    present = [r for r in done if (study.root / r.checkpoint_path).is_file()]
    if not present:
        which = f" of {architecture}" if architecture else ""
        reason = "checkpoints are missing" if done else "no completed run"
        raise FileNotFoundError(f"study {study_id!r} has no usable run{which}: {reason}")
    best = min(present, key=lambda r: (-float(getattr(r, metric)), r.run_id))
    return BestRun(
        study_id=study_id,
        run_id=best.run_id,
        architecture=best.architecture,
        metric=metric,
        value=float(getattr(best, metric)),
        checkpoint=study.root / best.checkpoint_path,
    )
