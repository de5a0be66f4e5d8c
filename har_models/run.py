"""One (architecture, repeat) run from its parameters to its record: read the tensors, fit,
score test once, write history, checkpoint and record into the study folder.

No Prefect here: the training flow's task, the ``har-train-one`` flow and the benchmarks
all call :func:`train_one_run`. Its result cache is the run record itself (plain JSON):
a run whose record, history and checkpoint exist and match its :func:`cache_key` is not
trained again, and a per-run file lock makes concurrent trainings of one study cooperate.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field

from data_contracts.dataset import OFFICIAL_ARCHIVE_SHA256
from har_data.layout import DataHome, StudyLayout
from har_data.manifest import Published, check_published, read_published
from har_data.tensors import load_split, package_version
from har_models.averaging import TrailingMean, TrailingMeanScores
from har_models.batched import RepeatsCallback, batch_refusal, fit_repeats, group_sizes
from har_models.checkpoint import save_checkpoint
from har_models.data import Split, subject_folds
from har_models.device import hardware_description, resolve_device
from har_models.protocol import (
    AVERAGED_EPOCHS,
    SELECTION_FACTOR,
    SELECTION_FOLDS,
    SELECTION_RULE,
    Protocol,
    check_protocol,
)
from har_models.registry import Recipe, build_model, get_spec
from har_models.results import RunRecord, atomic_write_parquet, find_record, save_record
from har_models.selection import choose
from har_models.stop import Interrupted
from har_models.study import run_id
from har_models.training import (
    EpochCallback,
    FitResult,
    chain_callbacks,
    evaluate,
    fit,
    latency_ms_per_window,
)

# Every package a run executes: a change to any of them invalidates cached runs.
CODE_PACKAGES = ("har_models", "har_data", "data_contracts")
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def code_version(root: Path = SOURCE_ROOT) -> str:
    """Package version + hash of the source of every package a run executes."""
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            digest.update(rel.encode() + b"\0" + path.read_bytes())
    return f"{package_version()}+{digest.hexdigest()[:12]}"


class RunParams(BaseModel):
    """Everything that defines one run (the training task's one parameter)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    study_id: str
    architecture: str
    repeat: int = Field(ge=0)
    seed: int = Field(ge=0)
    protocol: Protocol
    data_home: str  # absolute
    data_sha256: str
    epochs: int | None = Field(None, ge=1)
    device: str = "auto"
    threads: int | None = Field(None, ge=1)  # torch threads; does not change the result's key
    recipe_overrides: dict[str, Any] = Field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return run_id(self.architecture, self.repeat)

    @property
    def home(self) -> DataHome:
        return DataHome.resolve(self.data_home)

    @property
    def study(self) -> StudyLayout:
        return self.home.study(self.study_id)

    def recipe(self) -> Recipe:
        spec = get_spec(self.architecture)
        return spec.recipe.with_overrides(epochs=self.epochs, **self.recipe_overrides)

    def overrides(self) -> dict[str, Any]:
        """What this run changes in the registry's recipe (``epochs`` and any override)."""
        changed = {"epochs": self.epochs} if self.epochs is not None else {}
        return {**changed, **self.recipe_overrides}

    def provenance(self) -> Provenance:
        """The record fields that say what was trained with what."""
        return {
            "recipe": json.dumps(self.recipe().as_dict(), sort_keys=True),
            "overrides": json.dumps(self.overrides(), sort_keys=True),
            "torch_version": torch.__version__,
        }


class Provenance(TypedDict):
    """The provenance fields of a :class:`RunRecord` (see :meth:`RunParams.provenance`)."""

    recipe: str
    overrides: str
    torch_version: str


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def cache_key(params: RunParams, code: str | None = None) -> str:
    """Same study, data, architecture, recipe, hyperparameters, seed, protocol and code ->
    the same run; device and threads are where it runs, not what it is."""
    key = {
        "study_id": params.study_id,
        "data_sha256": params.data_sha256,
        "architecture": params.architecture,
        "repeat": params.repeat,
        "recipe": params.recipe().as_dict(),
        "hparams": get_spec(params.architecture).hparams,
        "seed": params.seed,
        "protocol": params.protocol,
        "code": code or code_version(),
    }
    return "har-train-" + hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_record(params: RunParams, key: str) -> RunRecord | None:
    """The run's record when it is complete, made from these inputs, and what it refers to
    (history, checkpoint with the recorded hash) is still there; else None."""
    study = params.study
    record = find_record(study, params.run_id)
    if record is None or record.status != "completed" or record.cache_key != key:
        return None
    history, checkpoint = study.root / record.history_path, study.root / record.checkpoint_path
    if not (record.history_path and history.is_file() and checkpoint.is_file()):
        return None
    if record.checkpoint_sha256 != sha256_of(checkpoint):
        return None
    if record.history_sha256 != sha256_of(history):
        return None
    return record


def check_study_protocol(study: StudyLayout, protocol: str) -> None:
    """A study holds one protocol: refuse to add runs of another before anything is written
    (their run ids would overwrite the existing records)."""
    for path in sorted(study.records.glob("*.json")) if study.records.is_dir() else []:
        record = find_record(study, path.stem)
        if record is not None and record.protocol != protocol:
            raise ValueError(
                f"study {study.study_id} already holds {record.run_id} trained with the "
                f"{record.protocol} protocol; give the {protocol} runs their own study id"
            )


def resolve_training_data(data_home: str | None) -> tuple[DataHome, str]:
    """The data home (absolute) and its data sha256; a clear error if no tensors exist or
    train and test are not the pair the manifest names (``har_data.manifest``)."""
    home = DataHome.resolve(data_home)
    return home, check_published(home).archive_sha256


def data_profile(published: Published) -> str:
    """ "official" when ingest checked the official counts (or the archive is the official
    one, for tensors published before the profile was recorded), else "custom"."""
    if published.profile:
        return published.profile
    return "official" if published.archive_sha256 in OFFICIAL_ARCHIVE_SHA256 else "custom"


def train_one_run(params: RunParams, on_epoch: EpochCallback | None = None) -> RunRecord:
    """The run's record: reused when :func:`cached_record` accepts it, else trained now.

    Test is only scored, after training and selection. A per-run lock serializes two
    processes asked for the same run; the second one then finds the first one's record.
    A run stopped by a signal is recorded ``interrupted`` (trained again next time)."""
    study = params.study
    study.records.mkdir(parents=True, exist_ok=True)
    key = cache_key(params)
    with FileLock(study.records / f".{params.run_id}.lock"):
        record = cached_record(params, key)
        if record is not None:
            return record
        try:
            record = _train(params, on_epoch)
        except (Interrupted, KeyboardInterrupt) as exc:
            save_record(failed_record(params, exc), study)
            raise
        return _save_completed(params, record, key)


def _train(params: RunParams, on_epoch: EpochCallback | None = None) -> RunRecord:
    if params.threads:
        torch.set_num_threads(params.threads)
    protocol = check_protocol(params.protocol)
    recipe = params.recipe()
    started_at = utc_now()
    published, train, test = read_training_data(params)
    held_out: list[int] = []
    if protocol == "validated":
        held_out = np.unique(train.subject).tolist()  # every one, in one of the folds
        result, history = fit_validated(params, recipe, train, on_epoch)
    else:
        result = fit(
            params.architecture, train.x, train.y, seed=params.seed, recipe=recipe,
            device=params.device, on_epoch=on_epoch,
        )  # fmt: skip
        history = result.history.assign(phase="train")
    return finish_run(params, published, test, result, history, started_at, held_out)


def read_training_data(params: RunParams) -> tuple[Published, Split, Split]:
    """The published tensors' manifest, train and test; refused when they are not the data
    the study started with."""
    home = params.home
    published, data = read_published(home)  # the checked bytes: a publish meanwhile cannot mix
    found = published.archive_sha256
    if params.data_sha256 and found != params.data_sha256:
        raise ValueError(
            f"{home.tensors}: data sha256 {found} differs from expected {params.data_sha256} "
            "(the tensors were published again since the study started)"
        )
    train, test = (Split(*load_split(pa.BufferReader(data[s]))) for s in ("train", "test"))
    return published, train, test


def finish_run(
    params: RunParams,
    published: Published,
    test: Split,
    result: FitResult,
    history: pd.DataFrame,
    started_at: str,
    held_out: list[int],
) -> RunRecord:
    """Score test once, write the history and the checkpoint; the run's record (without its
    cache key and file hashes, which :func:`_save_completed` adds)."""
    study, rid, seed, found = params.study, params.run_id, params.seed, published.archive_sha256
    recipe = params.recipe()
    scores, _ = evaluate(result.model, test.x, test.y, subjects=test.subject)
    atomic_write_parquet(history, study.history(rid))
    save_checkpoint(
        result.model,
        study.checkpoint(rid),
        data_sha256=found,
        extra={
            "recipe": recipe.as_dict(), "seed": seed, "protocol": params.protocol, "run_id": rid,
            "averaged_epochs": result.averaged_epochs,
        },
    )  # fmt: skip
    sample = test.x[:256]
    return RunRecord(
        study_id=params.study_id,
        run_id=rid,
        architecture=params.architecture,
        repeat=params.repeat,
        seed=seed,
        protocol=params.protocol,
        accuracy=scores.accuracy,
        macro_f1=scores.macro_f1,
        weighted_f1=scores.weighted_f1,
        per_class_precision=scores.per_class_precision,
        per_class_recall=scores.per_class_recall,
        per_class_f1=scores.per_class_f1,
        confusion=scores.confusion,
        test_subjects=scores.subjects,
        per_subject_accuracy=scores.per_subject_accuracy,
        epochs=result.epochs,
        best_epoch=result.best_epoch,
        averaged_epochs=result.averaged_epochs,
        wall_time_s=float(history["seconds"].sum()),
        seconds_per_epoch=result.seconds_per_epoch,
        n_params=result.model.parameter_count(),
        latency_ms_batch1=latency_ms_per_window(result.model, sample[:1], 1, repeats=10),
        latency_ms_batch256=latency_ms_per_window(result.model, sample, 256, repeats=2, warmup=1),
        device=result.device,
        data_sha256=found,
        version=code_version(),
        history_path=study.history_rel(rid),
        checkpoint_path=study.checkpoint_rel(rid),
        **params.provenance(),
        hardware=hardware_description(resolve_device(params.device)),
        started_at=started_at,
        finished_at=utc_now(),
        validation_subjects=held_out,
        data_profile=data_profile(published),
    )


def _save_completed(params: RunParams, record: RunRecord, key: str) -> RunRecord:
    study = params.study
    record.cache_key = key
    record.checkpoint_sha256 = sha256_of(study.root / record.checkpoint_path)
    record.history_sha256 = sha256_of(study.root / record.history_path)
    save_record(record, study)
    return record


def check_repeat_group(group: Sequence[RunParams]) -> None:
    """Runs that can train as one batched computation: one architecture trained in the
    ``published`` protocol (``validated`` selection folds differ per seed), the same recipe,
    study, data and device, and not fitted in closed form."""
    if not group:
        raise ValueError("a repeat group needs at least one run")
    first = group[0]
    same = ("study_id", "architecture", "protocol", "data_home", "data_sha256", "epochs",
            "device", "recipe_overrides")  # fmt: skip
    for params in group[1:]:
        for name in same:
            if getattr(params, name) != getattr(first, name):
                raise ValueError(
                    f"runs {first.run_id} and {params.run_id} differ in {name}: a repeat group "
                    "trains one architecture with one recipe"
                )
    if len({p.run_id for p in group}) != len(group):
        raise ValueError("a repeat group names one run twice")
    refusal = batch_refusal(first.architecture, first.protocol)
    if refusal:
        raise ValueError(refusal)


def train_repeats(
    group: Sequence[RunParams], on_epoch: RepeatsCallback | None = None
) -> list[RunRecord]:
    """The records of the runs of ``group``, the runs not reusable trained together as one
    batched computation (:mod:`har_models.batched`), each written exactly as
    :func:`train_one_run` writes a run. A stop marks every run still training interrupted."""
    check_repeat_group(group)
    first = group[0]
    first.study.records.mkdir(parents=True, exist_ok=True)
    keys = [cache_key(params) for params in group]
    with ExitStack() as locks:
        for params in sorted(group, key=lambda p: p.run_id):  # one lock order: no deadlock
            locks.enter_context(FileLock(params.study.records / f".{params.run_id}.lock"))
        done = {p.run_id: cached_record(p, k) for p, k in zip(group, keys, strict=True)}
        todo = [(p, k) for p, k in zip(group, keys, strict=True) if done[p.run_id] is None]
        if todo:
            if first.threads:
                torch.set_num_threads(first.threads)
            started_at = utc_now()
            try:
                published, train, test = read_training_data(first)
                results = fit_repeats(
                    first.architecture, train.x, train.y, seeds=[p.seed for p, _ in todo],
                    recipe=first.recipe(), device=first.device, on_epoch=on_epoch,
                )  # fmt: skip
            except (Interrupted, KeyboardInterrupt) as exc:
                for params, _ in todo:
                    save_record(failed_record(params, exc), params.study)
                raise
            for (params, key), result in zip(todo, results, strict=True):
                history = result.history.assign(phase="train")
                record = finish_run(params, published, test, result, history, started_at, [])
                done[params.run_id] = _save_completed(params, record, key)
    return [done[p.run_id] for p in group]  # type: ignore[misc]


def fit_validated(
    params: RunParams, recipe: Recipe, train: Split, on_epoch: EpochCallback | None = None
) -> tuple[FitResult, pd.DataFrame]:
    """The ``validated`` protocol: choose the epoch count on held-out training subjects,
    then refit on every training subject for that many epochs (same seed). The subjects fall
    in :data:`SELECTION_FOLDS` folds; each is held out once while the model trains on the
    others, and the rule reads the mean of those validation curves (one curve of a few
    subjects is too noisy to choose from). Returns the refit and the history of both phases
    (``fold`` 1.. for the selection runs, 0 for the refit); the test split is not touched."""
    if build_model(params.architecture).closed_form:  # nothing to choose by epochs: its
        # regularisation is chosen inside its own fit, on the training windows
        result = fit(
            params.architecture, train.x, train.y, seed=params.seed, recipe=recipe,
            device=params.device,
        )  # fmt: skip
        return result, result.history.assign(phase="train")
    # the whole search range in every fold: no early stop, so the curves can be averaged
    search = replace(recipe, epochs=max(1, round(SELECTION_FACTOR * recipe.epochs)), patience=None)
    curves = []
    for fold, held_out in enumerate(subject_folds(train.subject, params.seed, SELECTION_FOLDS)):
        mask = np.isin(train.subject, held_out)
        fit_set, val_set = train.subset(~mask), train.subset(mask)
        averaged = TrailingMeanScores(AVERAGED_EPOCHS, val_set.x, val_set.y)
        selection = fit(
            params.architecture, fit_set.x, fit_set.y, seed=params.seed, recipe=search,
            device=params.device, x_val=val_set.x, y_val=val_set.y,
            on_epoch=chain_callbacks(on_epoch, averaged),
        )  # fmt: skip
        curve = selection.history.assign(
            averaged_val_accuracy=averaged.accuracy,
            seconds=selection.history["seconds"] + averaged.seconds,  # its scoring too
        )
        curves.append(curve.assign(phase="select", fold=fold + 1))
    select = pd.concat(curves, ignore_index=True)
    mean = select.groupby("epoch")[["val_loss", "val_accuracy", "averaged_val_accuracy"]].mean()
    choice = choose(mean, SELECTION_RULE, AVERAGED_EPOCHS)
    kept = TrailingMean(choice.averaged_epochs)
    refit = fit(
        params.architecture, train.x, train.y, seed=params.seed,
        recipe=recipe.with_overrides(epochs=choice.epochs), device=params.device,
        on_epoch=chain_callbacks(on_epoch, kept),
    )  # fmt: skip
    if choice.averaged_epochs > 1:
        kept.load_into(refit.model)
    refit.best_epoch, refit.averaged_epochs = choice.epochs, len(kept.states)
    refit_history = refit.history.assign(seconds=refit.history["seconds"] + kept.seconds)
    history = pd.concat([select, refit_history.assign(phase="refit", fold=0)], ignore_index=True)
    return refit, history


def failed_record(params: RunParams, error: BaseException) -> RunRecord:
    """The row of a run that failed (after its retries) or was interrupted: an
    :class:`Interrupted` error is a stop someone asked for, wherever it is recorded (the run
    itself, or the flow that only saw its task end)."""
    status = "interrupted" if isinstance(error, (Interrupted, KeyboardInterrupt)) else "failed"
    return RunRecord(
        study_id=params.study_id,
        run_id=params.run_id,
        architecture=params.architecture,
        repeat=params.repeat,
        seed=params.seed,
        protocol=params.protocol,
        status=status,
        error=f"{type(error).__name__}: {error}"[:2000],
        version=code_version(),
        **params.provenance(),
        finished_at=utc_now(),
    )


def work_units(runs: Sequence[RunParams], groups: int) -> list[list[RunParams]]:
    """What the training flow submits: with ``groups`` (batched repeats), each batchable
    architecture's runs split into that many repeat groups as even as possible; every other
    run alone. ``groups = 0``: every run alone."""
    by_arch: dict[str, list[RunParams]] = {}
    for params in runs:
        by_arch.setdefault(params.architecture, []).append(params)
    units: list[list[RunParams]] = []
    for arch, arch_runs in by_arch.items():
        first = arch_runs[0]
        if groups == 0 or len(arch_runs) < 2 or batch_refusal(arch, first.protocol):
            units.extend([params] for params in arch_runs)
            continue
        ends = np.cumsum(group_sizes(len(arch_runs), groups)).tolist()
        units.extend(arch_runs[a:b] for a, b in itertools.pairwise([0, *ends]))
    return units
