"""The Parquet tensor contract (Great Expectations), checked on summary frames before publishing.

Per split: rows equal the raw files; Arrow types are the documented ones (window a
fixed-shape float32 (128, 9) tensor, label int8, subject int16, row int32); metadata names
the source, archive sha256, split and channel order; each channel is finite, within the
sensor's range and sums to exactly what the raw text held (so no value was lost or moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from data_contracts.dataset import (
    CHANNELS,
    N_CLASSES,
    OFFICIAL_LABEL_COUNTS,
    OFFICIAL_ROWS,
    SUBJECT_MAX,
    SUBJECT_MIN,
    Profile,
)
from data_contracts.validation import Check, ValidationReport, run_checks

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

# Plausible sensor ranges (not observed extremes): accelerations in g, angular rate in rad/s.
# The real data stays within about ±2.3 g and ±6 rad/s; values beyond these are corrupt.
SIGNAL_BOUNDS = {"body_acc": 8.0, "total_acc": 8.0, "body_gyro": 35.0}
EXPECTED_TYPES = {
    "window": "extension<arrow.fixed_shape_tensor[value_type=float, shape=[128,9]]>",
    "label": "int8",
    "activity": "string",
    "subject": "int16",
    "row": "int32",
}
REQUIRED_METADATA = ("source", "archive_sha256", "split")


@dataclass(frozen=True)
class RawSummary:
    """What the tensors must reproduce, computed from the parsed text files."""

    split: str
    rows: int
    channel_sums: tuple[float, ...]  # float64 sums of the float32 values, CHANNELS order


def summarize_raw(split: str, windows: np.ndarray) -> RawSummary:
    sums = windows.sum(axis=(0, 1), dtype=np.float64)
    return RawSummary(split, len(windows), tuple(float(v) for v in sums))


def _bound(channel: str) -> float:
    return next(b for sig, b in SIGNAL_BOUNDS.items() if channel.startswith(sig))


def tensor_checks(
    paths: dict[str, str], raw: dict[str, RawSummary], sha256: str, profile: Profile
) -> list[Check]:
    import great_expectations.expectations as gxe

    from har_data.tensors import load_split, read_metadata

    checks: list[Check] = []
    files = []
    for split, path in paths.items():
        schema = pq.read_schema(path)
        meta = read_metadata(path)
        record: dict[str, object] = {"file": str(path), "split": split}
        record.update({f"type_{n}": str(schema.field(n).type) for n in EXPECTED_TYPES})
        record["rows"] = pq.read_metadata(path).num_rows
        record["raw_rows"] = raw[split].rows
        record["channels"] = ",".join(meta.get("channels", []))
        record["meta_split"] = meta.get("split")
        record["meta_sha256"] = meta.get("archive_sha256")
        record["has_source"] = bool(meta.get("source"))
        files.append(record)

        x, y, s = load_split(path)
        rows = pq.read_table(path, columns=["row"]).column("row").to_numpy()
        sums = x.sum(axis=(0, 1), dtype=np.float64)
        channels = pd.DataFrame(
            {
                "channel": list(CHANNELS),
                "min": x.min(axis=(0, 1)).astype(np.float64),
                "max": x.max(axis=(0, 1)).astype(np.float64),
                "non_finite": (~np.isfinite(x)).sum(axis=(0, 1)),
                "sum": sums,
                "raw_sum": raw[split].channel_sums,
                "bound": [_bound(c) for c in CHANNELS],
            }
        )
        channels["neg_bound"] = -channels["bound"]
        checks.append(
            Check(
                f"{split}-channels",
                channels,
                [
                    gxe.ExpectColumnValuesToBeBetween(
                        column="non_finite", min_value=0, max_value=0
                    ),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="min", column_B="neg_bound", or_equal=True
                    ),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="bound", column_B="max", or_equal=True
                    ),
                    gxe.ExpectColumnPairValuesToBeEqual(column_A="sum", column_B="raw_sum"),
                ],
                ["channel"],
            )
        )
        windows = pd.DataFrame({"label": y, "subject": s.astype(np.int64), "row": rows})
        window_exps: list[Expectation] = [
            gxe.ExpectColumnValuesToBeBetween(column="label", min_value=0, max_value=N_CLASSES - 1),
            gxe.ExpectColumnValuesToBeBetween(
                column="subject", min_value=SUBJECT_MIN, max_value=SUBJECT_MAX
            ),
            gxe.ExpectColumnValuesToBeUnique(column="row"),
            gxe.ExpectColumnValuesToBeBetween(column="row", min_value=1, max_value=raw[split].rows),
        ]
        if profile == "official":
            window_exps.append(gxe.ExpectTableRowCountToEqual(value=OFFICIAL_ROWS[split]))
            counts = np.bincount(y, minlength=N_CLASSES)[:N_CLASSES]
            label_counts = pd.DataFrame(
                {
                    "label": np.arange(N_CLASSES),
                    "count": counts,
                    "official": OFFICIAL_LABEL_COUNTS[split],
                }
            )
            checks.append(
                Check(
                    f"{split}-label-counts",
                    label_counts,
                    [gxe.ExpectColumnPairValuesToBeEqual(column_A="count", column_B="official")],
                    ["label"],
                )
            )
        checks.append(Check(f"{split}-windows", windows, window_exps, ["row"]))

    frame = pd.DataFrame.from_records(files)
    file_exps = [
        gxe.ExpectColumnPairValuesToBeEqual(column_A="rows", column_B="raw_rows"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="meta_split", column_B="split"),
        gxe.ExpectColumnValuesToBeInSet(column="meta_sha256", value_set=[sha256]),
        gxe.ExpectColumnValuesToBeInSet(column="has_source", value_set=[True]),
        gxe.ExpectColumnValuesToBeInSet(column="channels", value_set=[",".join(CHANNELS)]),
        *(
            gxe.ExpectColumnValuesToBeInSet(column=f"type_{n}", value_set=[t])
            for n, t in EXPECTED_TYPES.items()
        ),
    ]
    checks.insert(0, Check("tensor-files", frame, file_exps, ["file"]))
    return checks


def validate_tensors(
    paths: dict[str, str], raw: dict[str, RawSummary], sha256: str, profile: Profile = "official"
) -> ValidationReport:
    """Run the tensor contract on written (not yet published) files; never raises on bad data."""
    checks = tensor_checks(paths, raw, sha256, profile)
    return run_checks(f"Parquet tensors ({profile} profile)", checks)
