"""The raw-file contract (Great Expectations): what the parsed UCI HAR text files must satisfy.

Per split: the 9 signal files, labels and subjects exist; every file has the same row
count; signals have 128 finite values per line (561 for the optional X_*.txt); labels in
1..6; subjects in 1..30. Across splits: no subject in both. The ``official`` profile adds
the published facts (rows, subjects, all six labels).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data_contracts.dataset import (
    CHANNELS,
    FILE_LABEL_MAX,
    FILE_LABEL_MIN,
    N_FEATURES,
    N_STEPS,
    OFFICIAL_ROWS,
    OFFICIAL_SUBJECTS,
    SPLITS,
    SUBJECT_MAX,
    SUBJECT_MIN,
    Profile,
    features_member,
    labels_member,
    signal_member,
    subjects_member,
)
from data_contracts.validation import Check, ValidationReport, run_checks

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

    from har_data.raw import RawSplit


def files_frame(raw: RawSplit) -> pd.DataFrame:
    """One row per file: exists, rows, values per line (the parser already enforced widths)."""
    widths = {signal_member(raw.split, c): a.shape[1] for c, a in raw.signals.items()}
    expected = {signal_member(raw.split, c): N_STEPS for c in CHANNELS}
    expected |= {labels_member(raw.split): 1, subjects_member(raw.split): 1}
    expected[features_member(raw.split)] = N_FEATURES
    records = [
        {
            "file": member,
            "exists": rows is not None,
            "rows": rows,
            "values_per_line": None if rows is None else widths.get(member, expected[member]),
            "expected_values": expected[member],
        }
        for member, rows in raw.file_rows().items()
    ]
    return pd.DataFrame.from_records(records).astype(
        {"rows": "Int64", "values_per_line": "Int64", "expected_values": "Int64"}
    )


def _int_frame(values: np.ndarray | None, file: str, column: str) -> pd.DataFrame:
    values = np.empty(0, np.int64) if values is None else values
    return pd.DataFrame(
        {"file": file, "line": np.arange(1, len(values) + 1), column: values.astype(np.int64)}
    )


def subject_splits_frame(splits: dict[str, RawSplit]) -> pd.DataFrame:
    """One row per subject: how many splits it appears in and where it first appears."""
    where: dict[int, list[str]] = {}
    for split, raw in splits.items():
        if raw.subjects is None:
            continue
        subjects = raw.subjects
        uniq, first = np.unique(subjects, return_index=True)
        for s, i in zip(uniq.tolist(), first.tolist(), strict=True):
            where.setdefault(s, []).append(f"{subjects_member(split)} line {i + 1}")
    return pd.DataFrame(
        {
            "subject": list(where),
            "n_splits": [len(v) for v in where.values()],
            "first_seen": ["; ".join(v) for v in where.values()],
        }
    )


def raw_checks(splits: dict[str, RawSplit], profile: Profile = "official") -> list[Check]:
    import great_expectations.expectations as gxe

    checks: list[Check] = []
    for split in SPLITS:
        raw = splits[split]
        files = files_frame(raw)
        present = files["rows"].dropna()
        majority = Counter(present.tolist()).most_common(1)[0][0] if len(present) else 0
        checks.append(
            Check(
                f"{split}-files",
                files,
                [
                    gxe.ExpectColumnValuesToBeInSet(column="exists", value_set=[True]),
                    gxe.ExpectColumnValuesToBeInSet(column="rows", value_set=[majority]),
                    gxe.ExpectColumnUniqueValueCountToBeBetween(
                        column="rows", min_value=1, max_value=1
                    ),
                    gxe.ExpectColumnPairValuesToBeEqual(
                        column_A="values_per_line",
                        column_B="expected_values",
                        ignore_row_if="either_value_is_missing",
                    ),
                ],
                ["file"],
            )
        )
        labels = _int_frame(raw.labels, labels_member(split), "label")
        label_exps: list[Expectation] = [
            gxe.ExpectColumnValuesToNotBeNull(column="label"),
            gxe.ExpectColumnValuesToBeBetween(
                column="label", min_value=FILE_LABEL_MIN, max_value=FILE_LABEL_MAX
            ),
        ]
        subjects = _int_frame(raw.subjects, subjects_member(split), "subject")
        subject_exps: list[Expectation] = [
            gxe.ExpectColumnValuesToNotBeNull(column="subject"),
            gxe.ExpectColumnValuesToBeBetween(
                column="subject", min_value=SUBJECT_MIN, max_value=SUBJECT_MAX
            ),
        ]
        if profile == "official":
            label_exps += [
                gxe.ExpectTableRowCountToEqual(value=OFFICIAL_ROWS[split]),
                gxe.ExpectColumnDistinctValuesToEqualSet(
                    column="label", value_set=list(range(FILE_LABEL_MIN, FILE_LABEL_MAX + 1))
                ),
            ]
            subject_exps += [
                gxe.ExpectTableRowCountToEqual(value=OFFICIAL_ROWS[split]),
                gxe.ExpectColumnDistinctValuesToEqualSet(
                    column="subject", value_set=list(OFFICIAL_SUBJECTS[split])
                ),
            ]
        checks.append(Check(f"{split}-labels", labels, label_exps, ["file", "line"]))
        checks.append(Check(f"{split}-subjects", subjects, subject_exps, ["file", "line"]))
    checks.append(
        Check(
            "subjects-disjoint",
            subject_splits_frame(splits),
            [gxe.ExpectColumnValuesToBeBetween(column="n_splits", min_value=1, max_value=1)],
            ["subject", "first_seen"],
        )
    )
    return checks


def validate_raw(splits: dict[str, RawSplit], profile: Profile = "official") -> ValidationReport:
    """Run the raw contract; the report says what failed and where (never raises on bad data)."""
    return run_checks(f"Raw UCI HAR files ({profile} profile)", raw_checks(splits, profile))
