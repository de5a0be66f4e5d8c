"""Export a trained model to a file that runs without this package: ONNX (onnxruntime, any
language) or TorchScript (plain ``torch.jit.load``).

The exported graph takes raw windows ``windows`` (batch, n_steps, n_channels) float32 and
returns ``logits`` and ``probabilities`` (batch, n_classes): standardization is inside, and
so is the output function of the model's training loss. Label names, channel order and
sampling rate travel with the file (ONNX metadata properties; a TorchScript extra file
``har.json``). An export is checked against the PyTorch model before it is kept: equal up to
float32 rounding, or (for features that threshold the input, where another runtime's
rounding flips a few comparisons) the same predictions with probabilities within 1e-2,
which is reported; anything else is refused instead of written.

Needs the ``export`` extra (onnx, onnxscript, onnxruntime) for ONNX.
"""

from __future__ import annotations

import json
import logging
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import torch
from torch import nn

from har_data.atomic import atomic_path
from har_models.inference import Predictor
from har_models.losses import PROBABILITIES

ExportFormat = Literal["onnx", "torchscript"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
SUFFIXES: dict[str, str] = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
OPSET = 18
PARITY_ATOL = 1e-5  # logits and probabilities, float32
PARITY_RTOL = 1e-5
CLOSE_PROB = 1e-2  # see Parity.close
METADATA_FILE = "har.json"  # TorchScript extra file

Runner = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class ExportError(ValueError):
    """The model cannot be exported to this format (or the export is not faithful)."""


class ExportedModel(nn.Module):
    """The graph that is exported: raw windows -> (logits, probabilities)."""

    def __init__(self, model: nn.Module, loss: str) -> None:
        super().__init__()
        self.model = model
        self.to_probs = PROBABILITIES[loss]

    def forward(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(windows)
        return logits, self.to_probs(logits)


def metadata(predictor: Predictor) -> dict[str, str]:
    """What a user of the file needs to feed it and read its outputs (string values)."""
    return {
        "architecture": predictor.model.architecture,
        "activities": json.dumps(list(predictor.activities)),
        "channels": json.dumps(list(predictor.spec.channels)),
        "n_steps": str(predictor.spec.n_steps),
        "sample_rate_hz": f"{predictor.spec.sample_rate_hz:g}",
        "input": "windows: float32 (batch, n_steps, n_channels), raw readings in channel order",
        "outputs": "logits, probabilities: float32 (batch, n_classes), classes in activities order",
        "source_checkpoint": predictor.path.name,
    }


@contextmanager
def _quiet() -> Iterator[None]:
    """The exporters warn about deprecations and missing optional packages: not the user's
    concern when the export is checked afterwards."""
    loggers = [
        logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")
    ]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def root_cause(error: BaseException, limit: int = 300) -> str:
    """The innermost cause's message on one line: the exporters wrap the useful part
    ("No ONNX function found for ...") in pages of advice and colour codes."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(error)).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _write_onnx(
    module: ExportedModel, sample: torch.Tensor, path: Path, meta: dict[str, str]
) -> None:
    try:
        import onnxscript  # noqa: F401  (the exporter needs it; say so up front)
    except ImportError:
        raise ExportError(
            "ONNX export needs the 'export' extra: pip install 'har-pipeline[export]'"
        ) from None
    batch = torch.export.Dim("batch", min=1)
    with _quiet():
        program = torch.onnx.export(
            module,
            (sample,),
            dynamo=True,
            opset_version=OPSET,
            input_names=["windows"],
            output_names=["logits", "probabilities"],
            dynamic_shapes=({0: batch},),
            verbose=False,
            report=False,
        )
    if program is None:
        raise ExportError("the ONNX exporter returned no program")
    program.model.metadata_props.update(meta)
    program.save(path, external_data=False)


def _write_torchscript(
    module: ExportedModel, sample: torch.Tensor, path: Path, meta: dict[str, str]
) -> None:
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(module, (sample,), check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={METADATA_FILE: json.dumps(meta)})


def load_runner(path: str | os.PathLike[str], fmt: ExportFormat, threads: int = 1) -> Runner:
    """Run an exported file the way its users will: onnxruntime, or ``torch.jit.load``."""
    if fmt == "onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def run_onnx(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            logits, probs = session.run(None, {"windows": np.ascontiguousarray(x, np.float32)})
            return np.asarray(logits), np.asarray(probs)

        return run_onnx
    with _quiet():
        module = torch.jit.load(str(path), map_location="cpu")

    def run_torchscript(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            logits, probs = module(torch.as_tensor(np.ascontiguousarray(x, np.float32)))
        return logits.numpy(), probs.numpy()

    return run_torchscript


def reference_outputs(predictor: Predictor, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The PyTorch model's logits and probabilities on ``x`` (the parity reference)."""
    module = ExportedModel(predictor.model, predictor.loss).eval()
    with torch.inference_mode():
        logits, probs = module(torch.as_tensor(np.asarray(x, np.float32)))
    return logits.numpy(), probs.numpy()


@dataclass(frozen=True)
class Parity:
    """How the exported file's outputs compare with the PyTorch model's."""

    max_abs_diff: float  # over logits and probabilities
    max_prob_diff: float
    windows: int
    disagreements: int  # windows whose predicted activity differs

    def exact(self, max_abs_logit: float) -> bool:
        """Equal up to float32 rounding."""
        return self.max_abs_diff <= PARITY_ATOL + PARITY_RTOL * max_abs_logit

    @property
    def close(self) -> bool:
        """Not equal, but the same predictions with probabilities within 1e-2: what a model
        whose features threshold its inputs (MiniRocket's proportion of positive values)
        gives when another runtime rounds a convolution differently."""
        return self.disagreements == 0 and self.max_prob_diff <= CLOSE_PROB


def parity(predictor: Predictor, runner: Runner, x: np.ndarray) -> Parity:
    """Compare the exported file with the PyTorch model on ``x`` in one batch and on its
    first window alone (a batch size the export was not traced with)."""
    worst = worst_prob = 0.0
    disagreements = 0
    for batch in (x, x[:1]):
        ref, got = reference_outputs(predictor, batch), runner(batch)
        for a, b in zip(ref, got, strict=True):
            if a.shape != b.shape:
                raise ExportError(
                    f"the file returns shape {b.shape} where the model returns {a.shape}"
                )
            worst = max(worst, float(np.max(np.abs(a - b))))
        worst_prob = max(worst_prob, float(np.max(np.abs(ref[1] - got[1]))))
        disagreements += int((ref[1].argmax(1) != got[1].argmax(1)).sum())
    return Parity(worst, worst_prob, len(x) + 1, disagreements)


def latency_ms_per_window(
    runner: Runner, x: np.ndarray, batch_size: int, seconds: float = 1.0
) -> float:
    """Median time of one call at ``batch_size``, per window, over about ``seconds``."""
    batch = np.resize(np.asarray(x, np.float32), (batch_size, *np.shape(x)[1:]))
    runner(batch)  # warm-up
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 200):
        t0 = time.perf_counter()
        runner(batch)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times) / batch_size


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    size_bytes: int
    parity: Parity
    exact: bool  # equal to the model's outputs up to float32 rounding (else only close)
    latency_ms_batch1: float
    latency_ms_batch256: float
    threads: int


def default_output(checkpoint: str | os.PathLike[str], fmt: ExportFormat) -> Path:
    """``<checkpoint stem>.onnx`` or ``<stem>.torchscript.pt`` in the current folder."""
    return Path(Path(checkpoint).stem + SUFFIXES[fmt])


def export(
    predictor: Predictor,
    fmt: ExportFormat,
    path: str | os.PathLike[str],
    sample: np.ndarray,
    threads: int = 1,
) -> ExportResult:
    """Write ``predictor``'s model to ``path`` (atomically), check that the file's outputs
    equal the model's on ``sample`` windows, and time it per window at batch 1 and 256."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; formats: {', '.join(EXPORT_FORMATS)}")
    path = Path(path)
    if path.resolve() == predictor.path.resolve():
        raise ExportError(f"{path}: the output would overwrite the checkpoint; choose another -o")
    model = predictor.model.cpu().eval()
    module = ExportedModel(model, predictor.loss).eval()
    example = torch.as_tensor(np.asarray(sample[:2], np.float32))
    write = _write_onnx if fmt == "onnx" else _write_torchscript
    arch = model.architecture
    with atomic_path(path) as tmp:
        try:
            write(module, example, Path(tmp), metadata(predictor))
        except ExportError:
            raise
        except Exception as e:  # an operator or construct the exporter cannot handle
            raise ExportError(
                f"architecture {arch!r} cannot be exported to {fmt}: {root_cause(e)}"
            ) from e
        runner = load_runner(tmp, fmt, threads)
        unfaithful = f"architecture {arch!r} does not export faithfully to {fmt}"
        try:
            check = parity(predictor, runner, sample)
        except ExportError as e:
            raise ExportError(f"{unfaithful}: {e}") from None
        exact = check.exact(float(np.abs(reference_outputs(predictor, sample)[0]).max()))
        if not (exact or check.close):
            changed = (
                f"it changes the predicted activity of {check.disagreements} of "
                f"{check.windows} check windows"
                if check.disagreements
                else f"its probabilities differ by up to {check.max_prob_diff:.3g}"
            )
            raise ExportError(
                f"{unfaithful}: outputs differ by up to {check.max_abs_diff:.3g} from the "
                f"PyTorch model's and {changed}"
            )
        lat1 = latency_ms_per_window(runner, sample, 1)
        lat256 = latency_ms_per_window(runner, sample, 256)
    return ExportResult(path, fmt, path.stat().st_size, check, exact, lat1, lat256, threads)
