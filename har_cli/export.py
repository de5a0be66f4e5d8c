"""``har export``: a trained model as a file that runs without this package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from cyclopts import Parameter
from pydantic import Field

from har_models.export import ExportFormat

if TYPE_CHECKING:
    import numpy as np

Threads = Annotated[int, Field(ge=1)]


def sample_windows(n_steps: int, n_channels: int, n: int = 64) -> np.ndarray:
    """Plausible windows to check and time the export on: synthetic UCI HAR windows where
    the model takes UCI HAR windows, else standard-normal values."""
    import numpy as np

    from data_contracts.dataset import N_CHANNELS, N_STEPS
    from har_data.synthetic import make_windows

    if (n_steps, n_channels) == (N_STEPS, N_CHANNELS):
        x, _, _ = make_windows(max(1, n // 12), (1, 2), seed=0)
        return x.astype(np.float32)
    return np.random.default_rng(0).standard_normal((n, n_steps, n_channels)).astype(np.float32)


def export(
    checkpoint: Path,
    *,
    format: ExportFormat,
    output: Annotated[Path | None, Parameter(name=["--output", "-o"])] = None,
    threads: Threads | None = None,
) -> None:
    """Export a checkpoint to ONNX or TorchScript, check it, and time it on this CPU.

    The file takes raw windows ``windows`` (batch, 128, 9) float32 and returns ``logits``
    and ``probabilities`` (batch, 6); label names, channel order and sampling rate are stored
    in it. ONNX runs with onnxruntime (Python, C, C++, C#, Java, JavaScript, mobile);
    TorchScript with ``torch.jit.load`` (PyTorch only, and deprecated by PyTorch: prefer
    ONNX). Before the file is kept, its outputs are compared with the PyTorch model's;
    an architecture whose export is refused or not faithful is reported and nothing is
    written. Prints the file size, that difference, and the latency per window at batch 1
    and 256.

    Args:
        checkpoint: A checkpoint written by training (see ``har best``).
        format: ``onnx`` or ``torchscript``.
        output: The file to write (default: ``<checkpoint name>.onnx`` or ``<checkpoint name>.torchscript.pt`` in the current folder).
        threads: CPU threads for the latency measurement (default: PyTorch's default).
    """
    import torch

    from har_models.export import default_output
    from har_models.export import export as export_model
    from har_models.inference import Predictor

    predictor = Predictor.from_checkpoint(checkpoint)
    n = threads or torch.get_num_threads()
    torch.set_num_threads(n)
    path = output if output is not None else default_output(checkpoint, format)
    sample = sample_windows(predictor.spec.n_steps, len(predictor.spec.channels))
    result = export_model(predictor, format, path, sample, threads=n)
    runtime = "onnxruntime" if format == "onnx" else "torch.jit"
    print(f"wrote {result.path} ({result.size_bytes / 1024:.1f} KiB, {format})")
    check = result.parity
    if result.exact:
        print(
            f"outputs equal the PyTorch model's within {check.max_abs_diff:.2g} (largest difference)"
        )
    else:
        print(
            f"outputs close to the PyTorch model's: they differ by up to {check.max_abs_diff:.2g} "
            f"(probabilities by up to {check.max_prob_diff:.2g}), with the same predicted activity "
            f"on all {check.windows} check windows; this architecture's features threshold its "
            "input and the runtime rounds differently (--format torchscript gives PyTorch's "
            "outputs exactly)"
        )
    print(
        f"latency per window on this CPU ({runtime}, {n} thread{'s' if n > 1 else ''}): "
        f"{result.latency_ms_batch1:.3f} ms at batch 1, {result.latency_ms_batch256:.4f} ms at batch 256"
    )
