"""aeon's own classifiers on the same tensors, as the reference for ``minirocket``.

aeon is not a dependency of the project (aeon 1.6 caps numpy below 2.4): run this in a
separate environment, e.g.

    python3.11 -m venv /tmp/aeon && /tmp/aeon/bin/pip install aeon==1.6.0 pyarrow
    /tmp/aeon/bin/python -m benchmarks.aeon_baseline --classifier minirocket --repeats 10 \\
        --data-home /tmp/har-home --study-id aeon-minirocket

Repeat k fits with ``random_state=k`` on the training split and scores the test split once.
Nothing is chosen on test (the ridge alpha is chosen inside the fit, on training windows), so
the rows carry the ``validated`` protocol, like the project's own ``minirocket`` runs.
Writes ``benchmarks/results/<study-id>.csv`` with the same columns as every run table
(architecture ``aeon_<classifier>``; ``seconds`` is the fit time, ``n_params`` 0: aeon does
not expose one count). Needs only numpy, pandas, pyarrow, scikit-learn and aeon.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from har_data.tensors import load_split, read_metadata

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = [
    "study_id",
    "architecture",
    "repeat",
    "seed",
    "protocol",
    "device",
    "accuracy",
    "macro_f1",
    "epochs",
    "best_epoch",
    "seconds",
    "n_params",
    "data_sha256",
    "code_version",
]  # fmt: skip  (benchmarks.results.COLUMNS; not imported: it needs the project's dependencies)


def classifier(name: str, seed: int):
    from aeon.classification.convolution_based import (
        MiniRocketClassifier,
        MultiRocketHydraClassifier,
    )

    if name == "minirocket":
        return MiniRocketClassifier(random_state=seed)
    if name == "multirocket_hydra":
        return MultiRocketHydraClassifier(random_state=seed)
    raise ValueError(f"unknown classifier {name!r}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--classifier", choices=["minirocket", "multirocket_hydra"], required=True)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--first-repeat", type=int, default=0)
    p.add_argument("--data-home", type=Path, required=True)
    p.add_argument("--study-id", required=True)
    a = p.parse_args(argv)
    import aeon

    tensors = a.data_home / "tensors"
    x_train, y_train, _ = load_split(tensors / "train.parquet")
    x_test, y_test, _ = load_split(tensors / "test.parquet")
    sha = str(read_metadata(tensors / "train.parquet").get("archive_sha256", ""))
    x_train, x_test = x_train.transpose(0, 2, 1), x_test.transpose(0, 2, 1)  # (N, C, T)
    out = RESULTS_DIR / f"{a.study_id}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = pd.read_csv(out).to_dict("records") if out.is_file() else []
    done = {r["repeat"] for r in rows}
    device = f"cpu:{platform.machine()}x{os.environ.get('OMP_NUM_THREADS', '?')}"
    for repeat in range(a.first_repeat, a.first_repeat + a.repeats):
        if repeat in done:
            continue
        t0 = time.perf_counter()
        clf = classifier(a.classifier, repeat).fit(x_train, y_train)
        seconds = time.perf_counter() - t0
        pred = clf.predict(x_test)
        row = {
            "study_id": a.study_id, "architecture": f"aeon_{a.classifier}", "repeat": repeat,
            "seed": repeat, "protocol": "validated", "device": device,
            "accuracy": round(100 * accuracy_score(y_test, pred), 4),
            "macro_f1": round(100 * f1_score(y_test, pred, average="macro"), 4),
            "epochs": 1, "best_epoch": 1, "seconds": round(seconds, 2), "n_params": 0,
            "data_sha256": sha, "code_version": f"aeon-{aeon.__version__}",
        }  # fmt: skip
        rows.append(row)
        pd.DataFrame(rows, columns=COLUMNS).sort_values("repeat").to_csv(out, index=False)
        print(json.dumps(row), flush=True)
    acc = np.array([r["accuracy"] for r in rows])
    print(f"{a.classifier}: n={len(acc)} acc {acc.mean():.2f} +- {acc.std(ddof=1):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
