"""``har export``: a file that runs without this package, equal to the PyTorch model.

Every registered architecture is exported to ONNX and TorchScript, and the files are run by
a plain Python process that imports only onnxruntime, torch and numpy, on real UCI HAR test
windows; their logits and probabilities must equal the PyTorch model's within 1e-5.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from data_contracts.dataset import ACTIVITIES
from har_data.readers import WindowSpec, read_uci_folder
from har_models import registry
from har_models.export import ExportedModel, reference_outputs
from har_models.inference import Predictor
from har_models.registry import ARCHITECTURES, ArchSpec, Recipe
from tests.cli_helpers import assert_one_error_line, extract_split, har, untrained_checkpoint

PARITY = 1e-5
# Exported to ONNX, these match the PyTorch model's predictions but not its outputs to 1e-5
# (BENCHMARKS.md, "Predict and export"); TorchScript matches them exactly.
THRESHOLDED = {"minirocket", "rocket_ensemble"}
# Two members export the same graph as the registered three (each member's transform and
# head, then their mean) in two thirds of the time: this test was the suite's slowest.
EXPORT_HPARAMS: dict[str, dict[str, object]] = {"rocket_ensemble": {"members": 2}}

# Runs in a fresh interpreter that never imports this project: what a user of the file has.
RUNNER = r"""
import json, sys
import numpy as np
x = np.load(sys.argv[1])
out = {}
for fmt, path in json.loads(sys.argv[2]).items():
    if fmt == "onnx":
        import onnxruntime as ort
        s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        meta = s.get_modelmeta().custom_metadata_map
        full = s.run(None, {"windows": x})
        one = s.run(None, {"windows": x[:1]})
    else:
        import torch
        files = {"har.json": ""}
        m = torch.jit.load(path, _extra_files=files)
        meta = json.loads(files["har.json"])
        with torch.no_grad():
            full = [t.numpy() for t in m(torch.from_numpy(x))]
            one = [t.numpy() for t in m(torch.from_numpy(x[:1]))]
    np.save(path + ".logits.npy", full[0]); np.save(path + ".probs.npy", full[1])
    np.save(path + ".one.npy", one[0])
    out[fmt] = meta
mine = sorted(m for m in sys.modules if m.split(".")[0] in
              ("har_models", "har_data", "har_cli", "flows", "tasks", "data_contracts"))
print(json.dumps({"meta": out, "project_modules": mine}))
"""


@pytest.fixture(scope="module")
def real_split(
    real_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[np.ndarray, np.ndarray]:
    """The real test split's windows and labels, read from its text files."""
    split = extract_split(real_archive, "test", tmp_path_factory.mktemp("uci"))
    windows = read_uci_folder(split, WindowSpec())
    assert windows.labels is not None
    return windows.x, windows.labels


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_exported_files_equal_the_model_on_real_windows(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    real_split: tuple[np.ndarray, np.ndarray],
    architecture: str,
    one_torch_thread: None,
) -> None:
    x, labels = real_split
    real_windows = x[:256].copy()  # checked on these; fitted (where anything is) on others
    ckpt = untrained_checkpoint(  # 1,000 other windows: enough for parity, quick to fit
        tmp_path / f"{architecture}.pt", architecture, x[256:1256], labels[256:1256],
        EXPORT_HPARAMS.get(architecture),
    )  # fmt: skip
    files = {}
    for fmt in ("onnx", "torchscript"):
        out = tmp_path / f"{architecture}.{fmt}"
        result = har(capsys, "export", ckpt, "--format", fmt, "-o", out, "--threads", 1)
        assert result.code == 0, result
        assert f"wrote {out}" in result.out and "latency per window" in result.out
        files[fmt] = str(out)
    np.save(tmp_path / "x.npy", real_windows)
    run = subprocess.run(
        [sys.executable, "-I", "-c", RUNNER, str(tmp_path / "x.npy"), json.dumps(files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])
    assert report["project_modules"] == []  # the files ran without this package
    logits, probs = reference_outputs(Predictor.from_checkpoint(ckpt), real_windows)
    for fmt, path in files.items():
        meta = report["meta"][fmt]
        assert json.loads(meta["activities"]) == list(ACTIVITIES)
        assert meta["sample_rate_hz"] == "50" and meta["architecture"] == architecture
        got_logits, got_probs = np.load(path + ".logits.npy"), np.load(path + ".probs.npy")
        diff = max(np.abs(got_logits - logits).max(), np.abs(got_probs - probs).max())
        diff_one = np.abs(np.load(path + ".one.npy") - logits[:1]).max()
        same = (got_probs.argmax(1) == probs.argmax(1)).mean()
        print(
            f"PARITY {architecture} {fmt} {Path(path).stat().st_size} {diff:.3g} {diff_one:.3g} {same}"
        )
        if fmt == "onnx" and architecture in THRESHOLDED:
            # Features that count convolution outputs above fitted thresholds: onnxruntime's
            # rounding flips a few comparisons, so only the predictions are equal.
            assert same == 1.0 and np.abs(got_probs - probs).max() <= 1e-2, (fmt, diff)
            continue
        assert diff <= PARITY and diff_one <= PARITY, (fmt, diff, diff_one)


def test_export_torchscript_defaults_to_the_current_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ckpt = untrained_checkpoint(tmp_path / "ckpts" / "lstm-r00.pt", "lstm")
    monkeypatch.chdir(tmp_path)
    result = har(capsys, "export", ckpt, "--format", "torchscript", "--threads", 1)
    assert result.code == 0, result
    assert (tmp_path / "lstm-r00.torchscript.pt").is_file()
    lines = result.out.splitlines()
    assert lines[0].startswith("wrote lstm-r00.torchscript.pt (") and "KiB" in lines[0]
    assert "within" in lines[1]
    assert "ms at batch 1" in lines[2] and "ms at batch 256" in lines[2]


def test_export_refuses_to_overwrite_the_checkpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ckpt = untrained_checkpoint(tmp_path / "m.pt", "lstm")
    before = ckpt.read_bytes()
    result = har(capsys, "export", ckpt, "--format", "torchscript", "-o", ckpt)
    assert_one_error_line(result, 1, "overwrite the checkpoint")
    assert ckpt.read_bytes() == before


class Unexportable(nn.Module):
    """A family no exporter follows faithfully: an operator ONNX lacks (Bessel J0), computed
    on a NumPy round trip that tracing would freeze into a constant."""

    def __init__(self, n_steps: int, n_channels: int, n_classes: int) -> None:
        super().__init__()
        self.head = nn.Linear(n_channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.from_numpy(np.ascontiguousarray(x.detach().cpu().numpy().mean(axis=1)))
        return self.head(torch.special.bessel_j0(pooled))


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_a_family_that_cannot_be_exported_says_so(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    spec = ArchSpec("unexportable", Unexportable, Recipe(1, 8))
    monkeypatch.setitem(registry.REGISTRY, spec.name, spec)
    ckpt = untrained_checkpoint(tmp_path / "h.pt", spec.name)
    out = tmp_path / "h.out"
    result = har(capsys, "export", ckpt, "--format", fmt, "-o", out)
    assert_one_error_line(result, 1, "architecture 'unexportable'", fmt)
    assert not out.exists() and list(tmp_path.glob(".h.out*")) == []


def test_exported_module_outputs_probabilities_of_the_recipe_loss() -> None:
    """lstm128 was trained with Keras' sigmoid loss: its probabilities are normalised sigmoids."""
    torch.manual_seed(0)
    model = registry.build_model("lstm128").eval()
    x = torch.randn(3, 128, 9)
    logits, probs = ExportedModel(model, "keras_sigmoid")(x)
    expected = torch.sigmoid(logits) / torch.sigmoid(logits).sum(-1, keepdim=True)
    torch.testing.assert_close(probs, expected)
