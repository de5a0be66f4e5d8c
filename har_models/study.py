"""Study-level defaults and names: how many repeats, how seeds follow repeats, study ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

DEFAULT_REPEATS: Final = 10
DEFAULT_BASE_SEED: Final = 0
# A study id is a folder name under runs/ and reports/: no separators, no leading dot.
STUDY_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
STUDY_ID_TIME_FORMAT: Final = "%Y%m%dT%H%M%SZ"
# What goes before the timestamp of a default study id: empty, or the start of a study id.
STUDY_PREFIX_PATTERN: Final = r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,79})?$"
# The scheduled deployment's studies: ``scheduled-20261123T030000Z`` says what and when.
SCHEDULED_PREFIX: Final = "scheduled-"


def default_study_id(prefix: str = "", now: datetime | None = None) -> str:
    """A UTC timestamp such as ``20261123T101500Z``, after ``prefix``. A scheduled run passes
    its scheduled time, so the id names the slot it was meant for, retries included."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return prefix + moment.strftime(STUDY_ID_TIME_FORMAT)


def seed_of(repeat: int, base_seed: int = DEFAULT_BASE_SEED) -> int:
    """Repeat k of a study uses seed ``base_seed + k``."""
    return base_seed + repeat


def run_id(architecture: str, repeat: int) -> str:
    return f"{architecture}-r{repeat:02d}"
