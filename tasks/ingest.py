"""Ingest tasks: fetch → extract → validate raw → convert → validate tensors → publish.

Each task does the I/O of one step and calls the pure code in ``har_data`` and
``data_contracts``. Only network failures are retried; bad data fails at once.
Tensors are written to a staging folder inside ``tensors/`` and renamed into place only
after they pass their contract, so a failed run leaves ``tensors/`` exactly as it was.
Publish renames both splits and writes the manifest naming both (with their sha256) under
one lock, so the pair is one unit; a refused archive's files are removed at once, and a
killed ingest's temporaries at the next start (``har_data.cleanup``).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from pydantic import BaseModel

from data_contracts.dataset import SPLITS
from data_contracts.raw_suite import Profile
from data_contracts.validation import ContractError, ValidationReport
from har_data import archive as arc
from har_data.atomic import temp_dir
from har_data.cleanup import discard_archive, remove_leftovers
from har_data.layout import MANIFEST as MANIFEST
from har_data.layout import DataHome
from har_data.locks import fetch_lock_path, fetch_prefix, hold, staging_prefix, tensors_lock_path
from har_data.manifest import (
    ManifestError,
    check_published,
    make_manifest,
    read_manifest,
    write_manifest,
)
from har_data.raw import RawDataError, RawSplit, read_split
from har_data.tensors import split_table, write_split

# Errors that mean the archive itself is bad: it is refused and nothing of it is kept.
REFUSALS: tuple[type[BaseException], ...] = (arc.ArchiveError, RawDataError, ContractError)
RAW_ARTIFACT_KEY = "har-raw-validation"
TENSOR_ARTIFACT_KEY = "har-tensor-validation"


class IngestResult(BaseModel):
    """What the ingest flow produced; downstream flows read ``train_path``/``test_path``."""

    archive_sha256: str
    train_path: str
    test_path: str
    reused: bool
    source: str = ""
    rows: dict[str, int] = {}


@dataclass(frozen=True)
class ArchiveRef:
    path: Path
    sha256: str
    source: str


@dataclass(frozen=True)
class Staged:
    """Validated-to-be tensors in a staging folder under ``tensors/``."""

    directory: Path
    paths: dict[str, str]
    rows: dict[str, int]


def _logger() -> logging.Logger | logging.LoggerAdapter:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:  # called as task.fn(...) outside a run
        return logging.getLogger("har.ingest")


def _known_sha(home: DataHome, source: str) -> str | None:
    """The archive sha256 last published from ``source``, per the manifest."""
    try:
        manifest = read_manifest(home) or {}
    except ManifestError:
        return None
    return str(manifest["archive_sha256"]) if manifest.get("source") == source else None


def _network_only(task: object, task_run: TaskRun, state: State) -> bool:
    """Retry policy: only network errors are worth another try."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        exc = state.result(raise_on_failure=False)
    return isinstance(exc, arc.DownloadError)


@task(
    name="fetch-archive",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_network_only,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def fetch_archive(
    source: str, expected_sha256: str | None, data_home: str, timeout_s: float = 60.0
) -> ArchiveRef:
    """Download (or copy) the archive into ``raw/<sha256>.zip``; check the hash when given.
    One fetch of a source at a time per data home (the second then finds the first's copy)."""
    log = _logger()
    home = DataHome.resolve(data_home)
    raw_dir = home.raw
    raw_dir.mkdir(parents=True, exist_ok=True)
    with hold(fetch_lock_path(home, source), log.info):
        if arc.is_remote(source):
            known = expected_sha256.strip().lower() if expected_sha256 else None
            known = known or _known_sha(home, source)
            if known and home.archive(known).is_file():
                log.info("Reusing archive raw/%s.zip already fetched from %s", known, source)
                return ArchiveRef(home.archive(known), known, source)
            log.info("Downloading %s", source)
            tmp = arc.download(source, raw_dir, timeout_s=timeout_s, prefix=fetch_prefix(source))
        else:
            path = arc.local_path(source)
            if not path.is_file():
                raise arc.ArchiveError(f"{source}: no such archive file")
            sha = arc.check_sha256(path, expected_sha256, source)
            dest = home.archive(sha)
            if dest.is_file():
                log.info("Archive %s is already stored as raw/%s.zip", path, sha)
                return ArchiveRef(dest, sha, source)
            tmp = arc.copy_local(path, raw_dir, prefix=fetch_prefix(source))
        try:
            sha = arc.check_sha256(tmp, expected_sha256, source)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dest = arc.store(tmp, raw_dir, sha)
    log.info("Stored %s as %s (sha256 %s)", source, dest, sha)
    return ArchiveRef(dest, sha, source)


def published(
    ref: ArchiveRef, data_home: str, profile: Profile = "official"
) -> IngestResult | None:
    """The published tensors of this archive, if they are a matching pair from it (checked
    against the manifest) that passed at least ``profile``'s checks."""
    home = DataHome.resolve(data_home)
    try:
        found = check_published(home)
    except (FileNotFoundError, ManifestError):
        return None
    if found.archive_sha256 != ref.sha256:
        return None
    if profile == "official" and found.profile == "custom":
        return None  # published without the official counts: check them now
    return IngestResult(
        archive_sha256=ref.sha256,
        train_path=str(found.paths["train"]),
        test_path=str(found.paths["test"]),
        reused=True,
        source=found.source,
        rows=found.rows,
    )


@task(name="clean-leftovers", cache_policy=NO_CACHE, persist_result=False)
def clean_leftovers(data_home: str) -> list[str]:
    """Remove the temporaries of killed ingests (none that a live ingest holds)."""
    removed = remove_leftovers(DataHome.resolve(data_home))
    for path in removed:
        _logger().info("Removed %s, left behind by an interrupted ingest", path)
    return [str(p) for p in removed]


@task(name="discard-refused-archive", cache_policy=NO_CACHE, persist_result=False)
def discard_refused(ref: ArchiveRef, data_home: str) -> list[str]:
    """Remove a refused archive's zip and extraction from ``raw/`` (unless the published
    tensors came from it)."""
    home = DataHome.resolve(data_home)
    try:
        manifest = read_manifest(home) or {}
    except ManifestError:
        manifest = {}
    if manifest.get("archive_sha256") == ref.sha256:
        return []
    removed = discard_archive(home, ref.sha256)
    if removed:
        _logger().info("Removed the refused archive: %s", ", ".join(map(str, removed)))
    return [str(p) for p in removed]


@task(name="find-published", cache_policy=NO_CACHE, persist_result=False)
def find_published(
    ref: ArchiveRef, data_home: str, profile: Profile = "official"
) -> IngestResult | None:
    """Skip all work when tensors for this exact archive are already published."""
    result = published(ref, data_home, profile)
    if result is not None:
        _logger().info(
            "Reusing published tensors for archive sha256 %s (%s, %s); nothing to do",
            ref.sha256,
            result.train_path,
            result.test_path,
        )
    return result


@task(name="extract-archive", cache_policy=NO_CACHE, persist_result=False)
def extract_archive(ref: ArchiveRef, data_home: str) -> Path:
    """Safely extract to ``raw/<sha256>/``; returns the folder that holds ``UCI HAR Dataset``."""
    home = DataHome.resolve(data_home)
    dest = home.extraction(ref.sha256)
    label = f"{ref.source} (raw/{ref.path.name})"
    arc.extract(ref.path, dest, on_step=_logger().info, label=label)
    return dest


def _publish_report(report: ValidationReport, key: str) -> None:
    create_markdown_artifact(markdown=report.markdown(), key=key, description=report.title)


@task(name="validate-raw", cache_policy=NO_CACHE, persist_result=False)
def validate_raw(extract_dir: Path, profile: Profile = "official") -> dict[str, RawSplit]:
    """Parse both splits and check the raw contract; the result is an artifact either way."""
    from data_contracts.raw_suite import validate_raw as run_raw_contract

    try:
        splits = {s: read_split(extract_dir, s) for s in SPLITS}
    except RawDataError as e:
        report = ValidationReport(f"Raw UCI HAR files ({profile} profile)", False, [str(e)], [])
        _publish_report(report, RAW_ARTIFACT_KEY)
        raise
    report = run_raw_contract(splits, profile)
    _publish_report(report, RAW_ARTIFACT_KEY)
    if not report.success:
        raise ContractError(report)
    _logger().info("Raw files passed %d expectations", len(report.rows))
    return splits


@task(name="convert-to-parquet", cache_policy=NO_CACHE, persist_result=False)
def convert(
    splits: dict[str, RawSplit], ref: ArchiveRef, data_home: str, profile: Profile = "official"
) -> Staged:
    """Write one Parquet per split into a fresh staging folder under ``tensors/``."""
    home = DataHome.resolve(data_home)
    staging = temp_dir(home.tensors, staging_prefix(ref.sha256))
    try:
        paths, rows = {}, {}
        for split, raw in splits.items():
            meta = {
                "source": ref.source,
                "archive_sha256": ref.sha256,
                "split": split,
                "profile": profile,
            }
            x = raw.windows()
            if raw.labels is None or raw.subjects is None:  # the raw contract requires both
                raise ValueError(f"{split}: no labels or subjects were read")
            table = split_table(x, raw.labels - 1, raw.subjects, metadata=meta)
            paths[split] = str(write_split(table, staging / f"{split}.parquet"))
            rows[split] = len(x)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _logger().info("Wrote %s to staging %s", rows, staging)
    return Staged(staging, paths, rows)


@task(name="validate-tensors", cache_policy=NO_CACHE, persist_result=False)
def validate_tensors(
    staged: Staged, splits: dict[str, RawSplit], ref: ArchiveRef, profile: Profile = "official"
) -> None:
    """Check the staged Parquet against its contract; on failure drop the staging folder."""
    from data_contracts.tensor_suite import summarize_raw
    from data_contracts.tensor_suite import validate_tensors as run_tensor_contract

    try:
        raw = {s: summarize_raw(s, splits[s].windows()) for s in staged.paths}
        report = run_tensor_contract(staged.paths, raw, ref.sha256, profile)
        _publish_report(report, TENSOR_ARTIFACT_KEY)
        if not report.success:
            raise ContractError(report)
    except BaseException:
        shutil.rmtree(staged.directory, ignore_errors=True)
        raise
    _logger().info("Tensors passed %d expectations", len(report.rows))


@task(name="publish-tensors", cache_policy=NO_CACHE, persist_result=False)
def publish(
    staged: Staged, ref: ArchiveRef, data_home: str, profile: Profile = "official"
) -> IngestResult:
    """Rename both validated files into ``tensors/``, then write the manifest naming both
    (with their sha256), all under the tensors lock: one publish at a time, and a publish
    killed halfway leaves files the manifest does not name, which training refuses."""
    home = DataHome.resolve(data_home)
    try:
        paths = {split: Path(path) for split, path in staged.paths.items()}
        manifest = make_manifest(paths, ref.sha256, ref.source, profile, staged.rows)
        with hold(tensors_lock_path(home), _logger().info):
            for split, path in paths.items():
                os.replace(path, home.split_path(split))
            write_manifest(home, manifest)
    finally:
        shutil.rmtree(staged.directory, ignore_errors=True)
    _logger().info("Published %s", ", ".join(str(home.split_path(s)) for s in staged.paths))
    return IngestResult(
        archive_sha256=ref.sha256,
        train_path=str(home.split_path("train")),
        test_path=str(home.split_path("test")),
        reused=False,
        source=ref.source,
        rows=staged.rows,
    )
