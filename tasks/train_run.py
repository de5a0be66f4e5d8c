"""Train one (architecture, repeat) run: read the tensors, fit, evaluate on test, write the
history and checkpoint into the study folder, return the RunRecord.

No Prefect import here: the benchmarks run the same function on machines that hold only
PyTorch (a lent GPU box, say). ``tasks.training.train_run_task`` is its cached, retried
Prefect task, which the training flow fans out; the ``har-train-one`` flow calls it too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from har_data.layout import DataHome
from har_data.tensors import package_version
from har_models.checkpoint import save_checkpoint
from har_models.data import data_sha256 as read_data_sha256
from har_models.data import read_split, subject_split
from har_models.registry import get_spec
from har_models.results import RunRecord, atomic_write_parquet, run_id, save_record
from har_models.training import evaluate, fit, latency_ms_per_window

HAR_MODELS_DIR = Path(__file__).resolve().parents[1] / "har_models"


def code_version() -> str:
    """Package version + hash of the model code: a code change invalidates cached runs."""
    digest = hashlib.sha256()
    for path in sorted(HAR_MODELS_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{package_version()}+{digest.hexdigest()[:12]}"


def resolve_training_data(data_home: str | None) -> dict[str, str]:
    """Absolute paths of the train/test tensors and their data sha256 (clear error if absent)."""
    home = DataHome.resolve(data_home)
    paths = {split: home.split_path(split).resolve() for split in ("train", "test")}
    for split, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"no {split} tensors at {path}: run the ingest flow first")
    return {
        "train_path": str(paths["train"]),
        "test_path": str(paths["test"]),
        "data_sha256": read_data_sha256(paths["train"]),
        "results_dir": str((home.root / "prefect-results").resolve()),
    }


def train_one_run(
    *,
    study_dir: str,
    study_id: str,
    architecture: str,
    repeat: int,
    seed: int,
    protocol: str,
    train_path: str,
    test_path: str,
    data_sha256: str,
    epochs: int | None = None,
    device: str = "auto",
    threads: int | None = None,
    recipe_overrides: dict[str, object] | None = None,
) -> RunRecord:
    """One complete run; the test split is only scored, after training and selection.

    ``recipe_overrides`` (``Recipe`` field -> value) is for benchmarks of a recipe variant
    chosen on validation subjects; the checkpoint records the recipe actually trained."""
    if threads:
        torch.set_num_threads(threads)
    spec = get_spec(architecture)
    recipe = spec.recipe.with_overrides(epochs=epochs, **(recipe_overrides or {}))
    found = read_data_sha256(train_path)
    if data_sha256 and found != data_sha256:
        raise ValueError(f"{train_path}: data sha256 {found} differs from expected {data_sha256}")
    train, test = read_split(train_path), read_split(test_path)
    if protocol == "validated":
        fit_set, val_set = subject_split(train, seed)
        result = fit(
            architecture, fit_set.x, fit_set.y, seed=seed, recipe=recipe, device=device,
            x_val=val_set.x, y_val=val_set.y,
        )  # fmt: skip
    elif protocol == "published":
        result = fit(architecture, train.x, train.y, seed=seed, recipe=recipe, device=device)
    else:
        raise ValueError(f"protocol must be 'published' or 'validated', got {protocol!r}")
    scores, _ = evaluate(result.model, test.x, test.y, subjects=test.subject)
    rid = run_id(architecture, repeat)
    study = Path(study_dir)
    history_rel = f"history/{rid}.parquet"
    checkpoint_rel = f"checkpoints/{rid}.pt"
    atomic_write_parquet(result.history, study / history_rel)
    save_checkpoint(
        result.model,
        study / checkpoint_rel,
        data_sha256=found,
        extra={"recipe": recipe.as_dict(), "seed": seed, "protocol": protocol, "run_id": rid},
    )
    sample = test.x[:256]
    record = RunRecord(
        study_id=study_id,
        run_id=rid,
        architecture=architecture,
        repeat=repeat,
        seed=seed,
        protocol=protocol,
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
        wall_time_s=result.wall_time_s,
        seconds_per_epoch=result.seconds_per_epoch,
        n_params=sum(p.numel() for p in result.model.parameters() if p.requires_grad),
        latency_ms_batch1=latency_ms_per_window(result.model, sample[:1], 1, repeats=10),
        latency_ms_batch256=latency_ms_per_window(result.model, sample, 256, repeats=2, warmup=1),
        device=result.device,
        data_sha256=found,
        version=code_version(),
        history_path=history_rel,
        checkpoint_path=checkpoint_rel,
    )
    save_record(record, study)
    return record


def failed_record(
    *, study_id: str, architecture: str, repeat: int, seed: int, protocol: str, error: BaseException
) -> RunRecord:
    """The row of a run that still failed after its retries: the study goes on without it."""
    return RunRecord(
        study_id=study_id,
        run_id=run_id(architecture, repeat),
        architecture=architecture,
        repeat=repeat,
        seed=seed,
        protocol=protocol,
        status="failed",
        error=f"{type(error).__name__}: {error}"[:2000],
        version=code_version(),
    )
