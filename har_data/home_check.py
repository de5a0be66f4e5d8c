"""Is the data home writable? Checked once, up front, by every flow that writes into it.

Without it an unwritable ``HAR_HOME`` (a read-only mount, a path under a regular file,
``/proc/...``) surfaces as a raw ``OSError`` deep in some task, naming neither ``HAR_HOME``
nor what to do. :func:`check_data_home` says which path, where it came from, why it cannot be
written, and how to choose another.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from har_data.layout import DataHome
from har_data.settings import get_settings


class DataHomeError(ValueError):
    """The data home cannot be created or written."""


def _origin(data_home: str | os.PathLike[str] | None) -> str:
    if data_home is not None:
        return "--data-home (the data_home parameter)"
    if "home" in get_settings().model_fields_set:
        return "HAR_HOME"
    return "the default ./har-data (no HAR_HOME set)"


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor)


def _why_unwritable(folder: Path) -> str | None:
    """Why ``folder`` cannot be written (or created, when missing), or None if it can.
    Leaves nothing behind: a missing folder is not created, its parent is probed."""
    ancestor = _nearest_existing(folder)
    if not ancestor.is_dir():
        return f"{'it' if ancestor == folder else ancestor} is a file, not a folder"
    try:
        if ancestor == folder:
            fd, probe = tempfile.mkstemp(prefix=".har-write-check-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".har-write-check-", dir=ancestor))
    except OSError as e:
        if ancestor == folder:
            return f"cannot write a file in it: {e.strerror}"
        note = " (that filesystem takes no new folders)" if e.errno == errno.ENOENT else ""
        return f"cannot create it inside {ancestor}: {e.strerror}{note}"
    return None


def check_data_home(
    data_home: str | os.PathLike[str] | None, writes: Iterable[str] = ("",)
) -> DataHome:
    """The resolved data home, once a file can be written in each of its folders ``writes``
    (names under the home; "" is the home itself); else one :class:`DataHomeError` line."""
    home = DataHome.resolve(data_home)
    folders = [home.root / name if name else home.root for name in writes]
    for folder in dict.fromkeys([home.root, *folders] if not home.root.is_dir() else folders):
        why = _why_unwritable(folder)
        if why is not None:
            target = "" if folder == home.root else f" (its folder {folder})"
            raise DataHomeError(
                f"data home {home.root}{target} is not writable: {why}. It comes from "
                f"{_origin(data_home)}; set HAR_HOME or pass --data-home to a folder you "
                "can write to."
            )
    return home
