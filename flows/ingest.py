"""The ingest flow: UCI HAR archive → validated Parquet tensors under ``<data home>/tensors``.

Run: ``har ingest [--source PATH_OR_URL] [--expected-sha256 HEX] [--data-home DIR]``.
The source defaults to ``$HAR_SOURCE``, then the official UCI URL.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from data_contracts.dataset import DEFAULT_PROFILE, Profile
from flows.help import documented
from har_data.home_check import check_data_home
from har_data.locks import archive_lock_path, hold
from har_data.settings import get_settings
from tasks.ingest import (
    REFUSALS,
    IngestResult,
    clean_leftovers,
    convert,
    discard_refused,
    extract_archive,
    fetch_archive,
    find_published,
    publish,
    validate_raw,
    validate_tensors,
)

# The folders an ingest writes into (checked before anything runs).
WRITES = ("raw", "tensors", "locks")


def resolve_source(source: str | None) -> str:
    """An explicit source wins, then ``HAR_SOURCE``, then the official URL."""
    return source or get_settings().source


@flow(name="har-ingest", log_prints=True)
@documented()
def ingest(
    source: str | None = None,
    expected_sha256: str | None = None,
    data_home: str | None = None,
    profile: Profile = DEFAULT_PROFILE,
) -> IngestResult:
    """Download (or copy), check and convert the UCI HAR archive into Parquet tensors.

    Tensors already published for the same archive are reused. Ingests of one archive on one
    data home take turns (a lock per archive): the second reuses what the first published.
    Bad input stops the flow with the file and line, leaves ``tensors/`` as it was and
    nothing of the refused archive under ``raw/``.
    """
    data_home_dir = check_data_home(data_home, WRITES)
    home = str(data_home_dir.root)
    clean_leftovers(home)
    ref = fetch_archive(resolve_source(source), expected_sha256, home)
    with hold(archive_lock_path(data_home_dir, ref.sha256), get_run_logger().info):
        reused = find_published(ref, home, profile)
        if reused is not None:
            return reused
        try:
            extracted = extract_archive(ref, home)
            splits = validate_raw(extracted, profile)
            staged = convert(splits, ref, home, profile)
            validate_tensors(staged, splits, ref, profile)
        except REFUSALS:
            discard_refused(ref, home)
            raise
        return publish(staged, ref, home, profile)
