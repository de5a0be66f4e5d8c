"""Ingest benchmark on the real archive: text loading vs Parquet, the cold flow, compression.

Run: ``.venv/bin/python -m benchmarks.ingest`` (archive from ``$HAR_SOURCE`` or the shared copy).
Each measurement runs in a fresh subprocess; peak memory is that process's ``ru_maxrss``
(whole process, including the interpreter and imports; the RSS after imports is shown too).
Prints a markdown report to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = REPO.parent / "shared" / "data" / "uci-har" / "UCI HAR Dataset.zip"
SPLITS = ("train", "test")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure_text(extracted: str, repeat: int) -> dict:
    """(a) the seed tutorial: pandas read_csv per signal file, whitespace-separated, dstack."""
    import numpy as np
    import pandas as pd

    from data_contracts.dataset import CHANNELS, signal_member

    base = _rss_mib()

    def load() -> None:
        for split in SPLITS:
            frames = [
                pd.read_csv(
                    Path(extracted) / signal_member(split, c), header=None, sep=r"\s+"
                ).values
                for c in CHANNELS
            ]
            x = np.dstack(frames)
            assert x.shape[1:] == (128, 9)

    return {
        "seconds": _best(load, repeat),
        "rss_after_imports_mib": base,
        "peak_rss_mib": _rss_mib(),
    }


def measure_parquet(tensors: str, repeat: int) -> dict:
    """(c) load_split of both splits from the published Parquet files."""
    from har_data.tensors import load_split

    base = _rss_mib()

    def load() -> None:
        for split in SPLITS:
            x, _, _ = load_split(Path(tensors) / f"{split}.parquet")
            assert x.shape[1:] == (128, 9)

    return {
        "seconds": _best(load, repeat),
        "rss_after_imports_mib": base,
        "peak_rss_mib": _rss_mib(),
    }


def measure_flow(archive: str, home: str) -> dict:
    """(b) the whole ingest flow, cold (fresh data home), then again (reuse)."""
    from prefect import flow

    from flows.ingest import ingest

    @flow(name="warm-up")
    def warm_up() -> None:
        """Starts Prefect's ephemeral API server, so (b) times the ingest itself."""

    t = time.perf_counter()
    warm_up()
    server = time.perf_counter() - t
    base = _rss_mib()
    t = time.perf_counter()
    result = ingest(source=archive, data_home=home)
    cold = time.perf_counter() - t
    peak = _rss_mib()
    t = time.perf_counter()
    again = ingest(source=archive, data_home=home)
    warm = time.perf_counter() - t
    assert not result.reused and again.reused
    return {
        "seconds": cold,
        "rerun_seconds": warm,
        "server_start_seconds": server,
        "rss_after_imports_mib": base,
        "peak_rss_mib": peak,
    }


_NO_DICT = ["label", "activity", "subject", "row"]  # dictionary off for the window floats
_BSS = ["window.list.element"]
COMPRESSION_CHOICES: dict[str, dict[str, object]] = {
    "zstd(1), no dict, byte_stream_split [chosen]": {
        "compression": "zstd",
        "use_dictionary": _NO_DICT,
        "use_byte_stream_split": _BSS,
    },
    "zstd(9), no dict, byte_stream_split": {
        "compression": "zstd",
        "compression_level": 9,
        "use_dictionary": _NO_DICT,
        "use_byte_stream_split": _BSS,
    },
    "zstd(19), no dict, byte_stream_split": {
        "compression": "zstd",
        "compression_level": 19,
        "use_dictionary": _NO_DICT,
        "use_byte_stream_split": _BSS,
    },
    "zstd(1), dict (pyarrow default; BSS then has no effect)": {
        "compression": "zstd",
        "use_byte_stream_split": _BSS,
    },
    "zstd(1), no dict": {"compression": "zstd", "use_dictionary": _NO_DICT},
    "lz4, no dict, byte_stream_split": {
        "compression": "lz4",
        "use_dictionary": _NO_DICT,
        "use_byte_stream_split": _BSS,
    },
    "snappy, no dict, byte_stream_split": {
        "compression": "snappy",
        "use_dictionary": _NO_DICT,
        "use_byte_stream_split": _BSS,
    },
    "snappy (dict)": {"compression": "snappy"},
    "none, no dict": {"compression": "none", "use_dictionary": _NO_DICT},
}


ROW_GROUP_CHOICES = (None, 4096, 2048, 1024, 512, 256, 128)  # None: one group per file


def _measure_options(tables: dict, choices: dict[str, dict]) -> dict:
    """Write the tables with each set of options: size, write time, load_split time."""
    import pyarrow.parquet as pq

    from har_data.tensors import load_split

    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, opts in choices.items():
            paths = {s: Path(d) / f"{s}.parquet" for s in SPLITS}
            t = time.perf_counter()
            for s in SPLITS:
                pq.write_table(tables[s], paths[s], **opts)
            write = time.perf_counter() - t
            read = _best(lambda p=paths: [load_split(p[s]) for s in SPLITS], 5)
            out[name] = {
                "bytes": sum(p.stat().st_size for p in paths.values()),
                "write_s": write,
                "read_s": read,
            }
    return out


def measure_compression(tensors: str) -> dict:
    """Rewrite the published tables with each compression (at the chosen row-group size),
    then with the chosen compression at each row-group size."""
    import pyarrow.parquet as pq

    from har_data.tensors import PARQUET_OPTIONS, ROW_GROUP_SIZE

    tables = {s: pq.read_table(Path(tensors) / f"{s}.parquet") for s in SPLITS}
    compression = {
        name: {**opts, "row_group_size": ROW_GROUP_SIZE}
        for name, opts in COMPRESSION_CHOICES.items()
    }
    row_groups = {
        str(rg or "one group"): {**PARQUET_OPTIONS, "row_group_size": rg}
        for rg in ROW_GROUP_CHOICES
    }
    return {
        "compression": _measure_options(tables, compression),
        "row_groups": _measure_options(tables, row_groups),
    }


def _child(kind: str, *args: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.ingest", "--child", kind, *args]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"benchmark step {kind} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _text_bytes(extracted: Path) -> int:
    from data_contracts.dataset import required_members

    return sum((extracted / m).stat().st_size for s in SPLITS for m in required_members(s))


def main() -> None:
    from har_data.archive import extract

    archive = os.environ.get("HAR_SOURCE") or str(DEFAULT_ARCHIVE)
    work = Path(tempfile.mkdtemp(prefix="har-bench-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    extracted = work / "extracted"
    extract(Path(archive), extracted)
    home = work / "home"

    flow = _child("flow", archive, str(home))
    tensors = str(home / "tensors")
    text = _child("text", str(extracted), "3")
    parquet = _child("parquet", tensors, "5")
    comp = _child("compression", tensors)

    text_size = _text_bytes(extracted)
    pq_size = sum((home / "tensors" / f"{s}.parquet").stat().st_size for s in SPLITS)
    mib = 1 << 20
    print(f"# ingest benchmark ({time.strftime('%Y-%m-%d')}, {platform.python_version()},")
    print(f"#  {os.cpu_count()} CPUs, {platform.machine()}, archive {archive})\n")
    print("| step | time (s) | peak RSS (MiB) | RSS after imports (MiB) |")
    print("|---|---:|---:|---:|")
    for name, r in [
        ("(a) seed tutorial: read_csv x18 + dstack", text),
        ("(b) ingest flow, cold (fresh data home)", flow),
        ("(c) load_split train + test (Parquet)", parquet),
    ]:
        row = f"| {name} | {r['seconds']:.3f} | {r['peak_rss_mib']:.0f} |"
        print(f"{row} {r['rss_after_imports_mib']:.0f} |")
    print(
        f"\nPrefect ephemeral server start (before (b), not in it): {flow['server_start_seconds']:.1f} s"
    )
    print(f"re-run of the flow (reuse): {flow['rerun_seconds']:.2f} s")
    print(f"speed-up (a)/(c): {text['seconds'] / parquet['seconds']:.0f}x")
    print(
        f"sizes: text (18 signal + 4 label/subject files) {text_size / mib:.1f} MiB, "
        f"Parquet {pq_size / mib:.1f} MiB ({pq_size / text_size:.1%} of text)\n"
    )
    for title, key, order in [
        ("compression", "compression", lambda kv: kv[1]["bytes"]),
        ("rows per row group", "row_groups", None),
    ]:
        rows = comp[key].items()
        print(f"| {title} | size (MiB) | write (s) | load_split both (s) |")
        print("|---|---:|---:|---:|")
        for name, r in sorted(rows, key=order) if order else rows:
            print(f"| {name} | {r['bytes'] / mib:.2f} | {r['write_s']:.2f} | {r['read_s']:.3f} |")
        print()


def child(argv: list[str]) -> None:
    kind, *args = argv
    if kind == "text":
        r = measure_text(args[0], int(args[1]))
    elif kind == "parquet":
        r = measure_parquet(args[0], int(args[1]))
    elif kind == "flow":
        r = measure_flow(args[0], args[1])
    else:
        r = measure_compression(args[0])
    print(json.dumps(r))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
