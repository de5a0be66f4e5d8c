"""``har predict``: a trained model on your own recordings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

from cyclopts import Parameter
from pydantic import Field

from flows.params import Device
from har_cli.output import note
from har_data.readers import DEFAULT_OVERLAP

OutputFormat = Literal["csv", "parquet"]
Overlap = Annotated[float, Field(ge=0, lt=1)]
Positive = Annotated[float, Field(gt=0)]
BatchSize = Annotated[int, Field(ge=1)]


def output_format(output: Path | None, fmt: OutputFormat | None) -> OutputFormat:
    """An explicit ``--format`` wins, then the output's suffix, then CSV."""
    if fmt is not None:
        return fmt
    if output is not None and output.suffix.lower() == ".parquet":
        return "parquet"
    return "csv"


def predict(
    checkpoint: Path,
    input: Path,
    *,
    output: Annotated[Path | None, Parameter(name=["--output", "-o"])] = None,
    overlap: Overlap = DEFAULT_OVERLAP,
    format: OutputFormat | None = None,
    sample_rate: Positive | None = None,
    batch_size: BatchSize = 1024,
    device: Device = "cpu",
) -> None:
    """Predict the activity of every window of INPUT with a trained checkpoint.

    INPUT is a Parquet split from ingest (``tensors/test.parquet``), a ``.npy`` array of windows
    (N, 128, 9) or of raw readings (rows, 9), a CSV of raw 50 Hz readings with one column per
    channel (``body_acc_x`` ... ``total_acc_z``; other columns are ignored), or one split
    folder of the UCI HAR text layout (``UCI HAR Dataset/test``). Raw readings are cut into
    windows of 128 readings, ``--overlap`` apart. Writes one row per window: ``window``,
    ``start`` (first reading's row, or the window's index for inputs that are windows
    already), ``start_s``, the predicted ``activity``, ``true_activity`` where the input has
    labels, and one probability per activity (``p_walking`` ...).

    Args:
        checkpoint: A checkpoint written by training (``runs/<study>/checkpoints/*.pt``; see ``har best``).
        input: The recordings: ``.parquet``, ``.npy``, ``.csv`` or a UCI-layout folder.
        output: Write here instead of stdout.
        overlap: Fraction by which consecutive windows of raw readings overlap (0 to below 1).
        format: ``csv`` or ``parquet`` (default: from the output's suffix, else csv).
        sample_rate: Readings per second of INPUT; refused unless it is the checkpoint's (default: the checkpoint's, 50 Hz for UCI HAR).
        batch_size: Windows per forward pass.
        device: ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto``.
    """
    from har_data.atomic import atomic_path
    from har_data.readers import read_input
    from har_models.device import resolve_device
    from har_models.inference import Predictor

    fmt = output_format(output, format)
    if output is None and fmt == "parquet" and sys.stdout.isatty():
        raise ValueError("Parquet is binary: give an output file with -o, or pipe stdout")
    predictor = Predictor.from_checkpoint(checkpoint, device=str(resolve_device(device)))
    windows = read_input(input, predictor.spec, overlap=overlap, sample_rate_hz=sample_rate)
    frame = predictor.predict_frame(windows, batch_size=batch_size)
    counts = frame["activity"].value_counts()
    summary = ", ".join(f"{a} {counts.get(a, 0)}" for a in predictor.activities if counts.get(a, 0))
    if output is None:
        if fmt == "csv":
            frame.to_csv(sys.stdout, index=False, float_format="%.6g")
        else:
            frame.to_parquet(sys.stdout.buffer, index=False)
        sys.stdout.flush()
    else:
        with atomic_path(output) as tmp:
            if fmt == "csv":
                frame.to_csv(tmp, index=False, float_format="%.6g")
            else:
                frame.to_parquet(tmp, index=False)
    where = f" -> {output}" if output is not None else ""
    note(f"{len(frame)} windows from {input} ({windows.kind}){where}: {summary}")
