"""File locks that let concurrent ingests on one data home cooperate.

One lock per archive (``locks/archive-<sha256>.lock``) is held from extraction to publish, so
a second ingest of the same archive waits and then reuses what the first one published; one
lock for ``tensors/`` (``locks/tensors.lock``) makes each publish of the two splits one unit.
Temporary files of an ingest carry the key of the lock that guards them, so the next start
can tell leftovers of a killed ingest (lock free) from work in progress (lock held).
The locks are ``flock`` locks: the kernel releases them when their process dies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from har_data.layout import DataHome


def archive_lock_path(home: DataHome, sha256: str) -> Path:
    return home.locks / f"archive-{sha256}.lock"


def fetch_key(source: str) -> str:
    """A short key for one source (URL or path): its fetch lock and temporary files."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def fetch_lock_path_for_key(home: DataHome, key: str) -> Path:
    return home.locks / f"fetch-{key}.lock"


def fetch_lock_path(home: DataHome, source: str) -> Path:
    return fetch_lock_path_for_key(home, fetch_key(source))


def fetch_prefix(source: str) -> str:
    """Prefix of the temporary file a fetch of ``source`` writes under ``raw/``."""
    return f".fetch-{fetch_key(source)}-"


def staging_prefix(sha256: str) -> str:
    """Prefix of the staging folder under ``tensors/`` of an ingest of archive ``sha256``."""
    return f".staging-{sha256}-"


def tensors_lock_path(home: DataHome) -> Path:
    return home.locks / "tensors.lock"


@contextmanager
def hold(path: Path, waiting: Callable[[str], object] | None = None) -> Iterator[None]:
    """Hold the lock at ``path``; when another process has it, say so once and wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if waiting is not None:
            waiting(f"waiting for another ingest on this data home (lock {path})")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


@contextmanager
def try_hold(path: Path) -> Iterator[bool]:
    """Hold the lock at ``path`` if it is free (yields True), else yield False at once."""
    if not path.parent.is_dir():
        yield True  # no lock was ever taken here, so no process can hold it
        return
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
