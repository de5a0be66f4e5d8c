"""The manifest of the published tensors: both splits as one unit.

``tensors/manifest.json`` names the archive both splits came from and each split's file with
its sha256. Publish writes it last, after both files are in place; training checks the pair
against it (:func:`check_published`) and refuses train and test files that were not published
together: a kill between the two renames of a publish, a file copied in by hand, two ingests
of different archives racing. Pure code (no Prefect): ingest writes it, ``har_models`` reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from data_contracts.dataset import SPLITS
from har_data.archive import sha256_file
from har_data.atomic import write_text
from har_data.layout import DataHome
from har_data.tensors import read_metadata

FORMAT = 2  # 1: files named without hashes (still read: each file's own provenance is checked)
RERUN = "run the ingest flow again to publish a matching pair"


class ManifestError(ValueError):
    """The published tensors are not one matching pair (or their manifest is unreadable)."""


@dataclass(frozen=True)
class Published:
    """What a data home's tensors are, once :func:`check_published` accepted them."""

    archive_sha256: str
    source: str
    profile: str  # "official" | "custom" | "" (published before the profile was recorded)
    rows: dict[str, int]
    paths: dict[str, Path]


def make_manifest(
    paths: Mapping[str, Path],
    archive_sha256: str,
    source: str,
    profile: str,
    rows: Mapping[str, int],
) -> dict[str, Any]:
    """The manifest of the split files at ``paths`` (hashed now, before they are renamed)."""
    return {
        "format": FORMAT,
        "archive_sha256": archive_sha256,
        "source": source,
        "profile": profile,
        "rows": dict(rows),
        "files": {
            split: {"name": f"{split}.parquet", "sha256": sha256_file(Path(path))}
            for split, path in paths.items()
        },
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_manifest(home: DataHome, manifest: Mapping[str, Any]) -> Path:
    return write_text(home.manifest, json.dumps(manifest, indent=2) + "\n")


def read_manifest(home: DataHome) -> dict[str, Any] | None:
    """The manifest, or None when there is none; :class:`ManifestError` when unreadable."""
    try:
        data = json.loads(home.manifest.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ManifestError(f"{home.manifest}: unreadable manifest ({e}); {RERUN}") from None
    if not isinstance(data, dict) or not isinstance(data.get("archive_sha256"), str):
        raise ManifestError(f"{home.manifest}: not a tensors manifest; {RERUN}")
    return data


def _file_archive(path: Path, data: bytes) -> str:
    try:
        return str(read_metadata(pa.BufferReader(data)).get("archive_sha256", ""))
    except (OSError, ValueError) as e:
        raise ManifestError(f"{path}: not a readable tensor file ({e}); {RERUN}") from None


def read_published(home: DataHome) -> tuple[Published, dict[str, bytes]]:
    """The data home's published pair and the bytes of both files as checked: refused unless
    both exist, come from one archive and are the files the manifest names (same sha256).
    Reading from these bytes, a publish that runs meanwhile cannot mix two archives."""
    paths = {split: home.split_path(split) for split in SPLITS}
    for split, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"no {split} tensors at {path}: run the ingest flow first")
    manifest = read_manifest(home)
    if manifest is None:
        raise ManifestError(
            f"{home.manifest} is missing, so nothing shows that {paths['train'].name} and "
            f"{paths['test'].name} in {home.tensors} were published together; {RERUN}"
        )
    archive = manifest["archive_sha256"]
    data = {split: path.read_bytes() for split, path in paths.items()}
    found = {split: _file_archive(paths[split], data[split]) for split in SPLITS}
    if len(set(found.values())) > 1:
        raise ManifestError(
            f"{paths['train']} comes from archive {found['train'][:12]} but {paths['test']} "
            f"from archive {found['test'][:12]}: train and test were not published together; "
            f"{RERUN}"
        )
    for split, path in paths.items():
        if found[split] != archive:
            raise ManifestError(
                f"{path} comes from archive {found[split][:12]}, but {home.manifest} names "
                f"archive {archive[:12]}; {RERUN}"
            )
        entry = manifest.get("files", {}).get(split)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if expected is not None and hashlib.sha256(data[split]).hexdigest() != expected:
            raise ManifestError(
                f"{path} is not the file {home.manifest} names (sha256 differs): it was "
                f"replaced after ingest, or a publish was interrupted; {RERUN}"
            )
    published = Published(
        archive_sha256=archive,
        source=str(manifest.get("source", "")),
        profile=str(manifest.get("profile", "")),
        rows={k: int(v) for k, v in manifest.get("rows", {}).items()},
        paths=paths,
    )
    return published, data


def check_published(home: DataHome) -> Published:
    """:func:`read_published` without the bytes."""
    return read_published(home)[0]
