"""What refused and killed ingests leave under the data home, and removing it.

A refused archive (corrupt, unsafe, not UCI HAR, failing its contract) is worth nothing: its
``raw/<sha256>.zip`` and its extraction go at once. A killed ingest cannot clean up after
itself; the next ingest removes its temporaries: ``raw/.<sha256>-partial-*`` (extractions),
``raw/.fetch-<key>-*.zip`` (downloads) and ``tensors/.staging-<sha256>-*`` (converted
splits), each only while no live ingest holds the lock its name points to
(:mod:`har_data.locks`). Temporaries named by older versions, without a lock key, are removed
once they are a day old.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from har_data.layout import DataHome
from har_data.locks import archive_lock_path, fetch_lock_path_for_key, try_hold

STALE_AFTER_S = 24 * 3600
_EXTRACTION = re.compile(r"^\.([0-9a-f]{64})-partial-")
_FETCH = re.compile(r"^\.fetch-([0-9a-f]{16})-")
_STAGING = re.compile(r"^\.staging-([0-9a-f]{64})-")
_UNKEYED = ("raw/.partial-", "tensors/.staging-")


def _remove(path: Path) -> bool:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return not path.exists()


def discard_archive(home: DataHome, sha256: str) -> list[Path]:
    """Remove a refused archive's ``raw/<sha256>.zip`` and extraction (the caller holds its
    archive lock); returns what was removed."""
    removed = []
    for path in (home.archive(sha256), home.extraction(sha256)):
        if path.exists() and _remove(path):
            removed.append(path)
    return removed


def _lock_of(home: DataHome, folder: str, name: str) -> Path | None:
    """The lock guarding a temporary, or None when its name carries no lock key."""
    if folder == "raw":
        if m := _EXTRACTION.match(name):
            return archive_lock_path(home, m[1])
        if m := _FETCH.match(name):
            return fetch_lock_path_for_key(home, m[1])
    elif m := _STAGING.match(name):
        return archive_lock_path(home, m[1])
    return None


def remove_leftovers(home: DataHome, now: float | None = None) -> list[Path]:
    """Remove the temporaries of killed ingests (never one a live ingest is using)."""
    now = time.time() if now is None else now
    removed = []
    for folder in ("raw", "tensors"):
        directory = home.root / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob(".*")):
            lock = _lock_of(home, folder, path.name)
            if lock is not None:
                with try_hold(lock) as free:
                    if free and _remove(path):
                        removed.append(path)
            elif f"{folder}/{path.name}".startswith(_UNKEYED):
                try:
                    age = now - path.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age > STALE_AFTER_S and _remove(path):
                    removed.append(path)
    return removed
