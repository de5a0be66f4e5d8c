"""The ingest flow: UCI HAR archive → validated Parquet tensors under ``<data home>/tensors``.

Run: ``python -m flows.ingest [--source PATH_OR_URL] [--sha256 HEX] [--data-home DIR]``.
The source defaults to ``$HAR_SOURCE``, then the official UCI URL.
"""

from __future__ import annotations

from typing import get_args

from prefect import flow, get_run_logger

from data_contracts.dataset import DEFAULT_PROFILE, Profile
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
def ingest(
    source: str | None = None,
    expected_sha256: str | None = None,
    data_home: str | None = None,
    profile: Profile = DEFAULT_PROFILE,
) -> IngestResult:
    """Fetch, extract, validate and convert the archive; reuse tensors already published for it.
    ``source`` None means ``$HAR_SOURCE``, then the official UCI URL.

    Ingests of one archive on one data home take turns (a lock per archive): the second
    reuses what the first published. A refused archive leaves nothing under ``raw/``."""
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


def main(argv: list[str] | None = None) -> IngestResult:
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--source", default=None, help="URL, file:// URL or path (default $HAR_SOURCE)")
    p.add_argument("--sha256", default=None, help="expected sha256 of the archive")
    p.add_argument("--data-home", default=None, help="default $HAR_HOME or ./har-data")
    p.add_argument("--profile", choices=get_args(Profile), default=DEFAULT_PROFILE)
    a = p.parse_args(argv)
    result = ingest(
        source=resolve_source(a.source),
        expected_sha256=a.sha256,
        data_home=a.data_home,
        profile=a.profile,
    )
    print(result.model_dump_json(indent=2))
    return result


if __name__ == "__main__":
    main()
