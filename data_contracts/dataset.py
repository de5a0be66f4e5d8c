"""UCI HAR dataset facts: the one home for channel order, label names, shapes and official counts.

Every other module imports these names instead of restating them.
"""

from __future__ import annotations

from typing import Final, Literal

OFFICIAL_URL: Final = (
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00240/UCI%20HAR%20Dataset.zip"
)
ROOT_DIR: Final = "UCI HAR Dataset"
# sha256 of the archive at OFFICIAL_URL (the scheduled deployment pins it).
OFFICIAL_SHA256: Final = "0ddcb4028c2716bf7d8f62f9eb8d0dccb419f3f40c517c15406227221c1a43e4"
INNER_ZIP_NAME: Final = "UCI HAR Dataset.zip"  # the newer UCI download nests the archive
# sha256 of the copy of the official archive this project's benchmarks use ("UCI HAR
# Dataset.zip" without the 561-feature files, 32,087,823 bytes). Ingest now records whether
# the official counts were checked (the profile); this only identifies older tensors.
OFFICIAL_ARCHIVE_SHA256: Final = frozenset(
    {"0ddcb4028c2716bf7d8f62f9eb8d0dccb419f3f40c517c15406227221c1a43e4"}
)

SPLITS: Final = ("train", "test")
# Which checks ingest applies: "official" adds the official row, subject and label counts;
# "custom" is for other archives with the same layout (the synthetic test archives).
Profile = Literal["official", "custom"]
DEFAULT_PROFILE: Final[Profile] = "official"
SIGNALS: Final = ("body_acc", "body_gyro", "total_acc")
AXES: Final = ("x", "y", "z")
# Channel order of every tensor: body_acc x/y/z, body_gyro x/y/z, total_acc x/y/z.
CHANNELS: Final = tuple(f"{s}_{a}" for s in SIGNALS for a in AXES)
N_CHANNELS: Final = len(CHANNELS)
N_STEPS: Final = 128
SAMPLE_RATE_HZ: Final = 50
WINDOW_SHAPE: Final = (N_STEPS, N_CHANNELS)

# Label k (1-based in the text files) is ACTIVITIES[k - 1]; tensors store k - 1.
ACTIVITIES: Final = (
    "WALKING",
    "WALKING_UPSTAIRS",
    "WALKING_DOWNSTAIRS",
    "SITTING",
    "STANDING",
    "LAYING",
)
N_CLASSES: Final = len(ACTIVITIES)
FILE_LABEL_MIN: Final = 1
FILE_LABEL_MAX: Final = N_CLASSES
SUBJECT_MIN: Final = 1
SUBJECT_MAX: Final = 30
N_FEATURES: Final = 561  # X_*.txt, optional in this project

OFFICIAL_ROWS: Final = {"train": 7352, "test": 2947}
OFFICIAL_SUBJECTS: Final = {
    "train": (1, 3, 5, 6, 7, 8, 11, 14, 15, 16, 17, 19, 21, 22, 23, 25, 26, 27, 28, 29, 30),
    "test": (2, 4, 9, 10, 12, 13, 18, 20, 24),
}
# Windows per activity, in ACTIVITIES order.
OFFICIAL_LABEL_COUNTS: Final = {
    "train": (1226, 1073, 986, 1286, 1374, 1407),
    "test": (496, 471, 420, 491, 532, 537),
}


def signal_member(split: str, channel: str) -> str:
    """Path inside the archive of one Inertial Signals file."""
    return f"{ROOT_DIR}/{split}/Inertial Signals/{channel}_{split}.txt"


def labels_member(split: str) -> str:
    return f"{ROOT_DIR}/{split}/y_{split}.txt"


def subjects_member(split: str) -> str:
    return f"{ROOT_DIR}/{split}/subject_{split}.txt"


def features_member(split: str) -> str:
    return f"{ROOT_DIR}/{split}/X_{split}.txt"


def required_members(split: str) -> tuple[str, ...]:
    """The 11 files a split needs: 9 signals, labels, subjects."""
    return (
        *(signal_member(split, c) for c in CHANNELS),
        labels_member(split),
        subjects_member(split),
    )
