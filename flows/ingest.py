"""The ingest flow: UCI HAR archive → validated Parquet tensors under ``<data home>/tensors``.

Run: ``python -m flows.ingest [--source PATH_OR_URL] [--sha256 HEX] [--data-home DIR]``.
The source defaults to ``$HAR_SOURCE``, then the official UCI URL.
"""

from __future__ import annotations

from typing import get_args

from prefect import flow

from data_contracts.dataset import DEFAULT_PROFILE, Profile
from har_data.layout import DataHome
from har_data.settings import get_settings
from tasks.ingest import (
    IngestResult,
    convert,
    extract_archive,
    fetch_archive,
    find_published,
    publish,
    validate_raw,
    validate_tensors,
)


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
    ``source`` None means ``$HAR_SOURCE``, then the official UCI URL."""
    home = str(DataHome.resolve(data_home).root)
    ref = fetch_archive(resolve_source(source), expected_sha256, home)
    reused = find_published(ref, home)
    if reused is not None:
        return reused
    extracted = extract_archive(ref, home)
    splits = validate_raw(extracted, profile)
    staged = convert(splits, ref, home)
    validate_tensors(staged, splits, ref, profile)
    return publish(staged, ref, home)


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
