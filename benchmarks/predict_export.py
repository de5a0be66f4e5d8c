"""``har export`` and ``har predict`` measured on the real data, every registered architecture.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.predict_export --data-home /work/har-home \\
        --checkpoint lstm128=/work/har-home/runs/nb-published/checkpoints/lstm128-r00.pt

For each architecture (a trained checkpoint where ``--checkpoint`` gives one, a closed-form
model fitted on the training split, else a fresh model whose standardization is fitted on
the training windows: size, parity and speed do not depend on the weights' values) it exports ONNX and TorchScript with the same code as
``har export`` and prints the file size, the largest difference from the PyTorch model's
logits and probabilities on the first 256 real test windows (and on one window alone), and
the latency per window at batch 1 and 256. Then it runs ``har predict`` as a user would (a
subprocess, start-up included) on ``--windows`` real windows saved as ``.npy``, and times the
model's forward passes alone in-process. Prints Markdown tables; writes only under a
temporary folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from har_data.layout import DataHome
from har_data.tensors import load_split
from har_models.checkpoint import save_checkpoint
from har_models.export import EXPORT_FORMATS, export
from har_models.inference import Predictor
from har_models.registry import ARCHITECTURES, build_model
from har_models.training import fit


def checkpoint_for(
    arch: str, given: dict[str, str], train_x: np.ndarray, train_y: np.ndarray, folder: Path
) -> tuple[Path, str]:
    """The given checkpoint, a closed-form model fitted on the training split (seconds), or a
    fresh model with its standardization fitted; and which of these it is."""
    if arch in given:
        return Path(given[arch]), "trained"
    torch.manual_seed(0)
    model = build_model(arch)
    if model.closed_form:
        model = fit(arch, train_x, train_y, seed=0, device="cpu").model
        return save_checkpoint(model, folder / f"{arch}.pt"), "fitted"
    model.norm.fit(torch.as_tensor(train_x))
    return save_checkpoint(model, folder / f"{arch}.pt"), "fresh"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-home", default=None)
    p.add_argument("--architectures", nargs="+", default=list(ARCHITECTURES))
    p.add_argument("--checkpoint", action="append", default=[], metavar="ARCH=PATH")
    p.add_argument("--windows", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    given = dict(item.split("=", 1) for item in a.checkpoint)
    home = DataHome.resolve(a.data_home)
    train_x, train_y, _ = load_split(home.split_path("train"))
    test_x, _, _ = load_split(home.split_path("test"))
    all_x = np.concatenate([train_x, test_x])[: a.windows]
    sample = np.array(test_x[:256])
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, torch threads {a.threads}"
    )
    exports, predicts = [], []
    with tempfile.TemporaryDirectory(prefix="har-bench-") as tmp:
        folder = Path(tmp)
        np.save(folder / "windows.npy", all_x)
        for arch in a.architectures:
            ckpt, trained = checkpoint_for(arch, given, train_x, train_y, folder)
            predictor = Predictor.from_checkpoint(ckpt)
            for fmt in EXPORT_FORMATS:
                suffix = ".onnx" if fmt == "onnx" else ".ts.pt"
                t0 = time.perf_counter()
                r = export(predictor, fmt, folder / f"{arch}{suffix}", sample, threads=a.threads)
                seconds = time.perf_counter() - t0
                exports.append(
                    f"| {arch} ({trained}) | {fmt} | {r.size_bytes / 1024:.0f} "
                    f"| {r.parity.max_abs_diff:.1e}{'' if r.exact else ' (same predictions)'} "
                    f"| {r.latency_ms_batch1:.3f} | {r.latency_ms_batch256:.4f} | {seconds:.0f} |"
                )
                print(exports[-1], flush=True)
            env = {**os.environ, "OMP_NUM_THREADS": str(a.threads)}
            t0 = time.perf_counter()
            subprocess.run(
                [str(Path(sys.executable).with_name("har")), "predict", str(ckpt),
                 str(folder / "windows.npy"), "-o", str(folder / "p.parquet")],
                check=True, env=env, capture_output=True,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            predictor.probabilities(all_x)
            forward = time.perf_counter() - t0
            predicts.append(
                f"| {arch} | {len(all_x)} | {wall:.1f} | {forward:.1f} | {1000 * forward / len(all_x):.3f} |"
            )
            print(predicts[-1], flush=True)
    print(
        "\n| architecture | format | KiB | max abs diff | ms/window b1 | ms/window b256 | export s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(exports))
    print("\n| architecture | windows | `har predict` wall s | forward passes s | ms/window |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(predicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
