"""Ingest on a shared data home: concurrent ingests cooperate, refused and killed ingests
leave nothing behind, files follow the umask, an HTML page is not taken for an archive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from data_contracts.dataset import labels_member, signal_member
from data_contracts.validation import ContractError
from flows.ingest import ingest
from har_data.archive import ArchiveError, sha256_file
from har_data.cleanup import remove_leftovers
from har_data.layout import DataHome
from har_data.locks import archive_lock_path, fetch_key, hold
from har_data.manifest import check_published
from har_data.raw import RawDataError
from har_data.synthetic import make_synthetic_archive, synthetic_files, write_archive
from tests.processes import REPO, Child, child_env, run_together

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_two_ingests_at_once_share_the_work(tmp_path: Path) -> None:
    """Both start together on one data home: one extracts and publishes, the other waits for
    it and reuses what it published (before, the loser crashed renaming its extraction)."""
    archive = make_synthetic_archive(tmp_path / "a.zip", n_per_class_subject=12)
    home = DataHome.resolve(tmp_path / "home")
    action = (
        f"r = ingest(source={str(archive)!r}, data_home={str(home.root)!r}, profile='custom')\n"
        "print('RESULT', r.model_dump_json())"
    )
    child = Child("from flows.ingest import ingest", action)
    env = child_env(tmp_path / "prefect-home", PREFECT_API_URL.value())
    done = run_together([child, child], tmp_path, env)
    for proc in done:
        assert proc.returncode == 0, proc.stderr[-3000:]
    results = [
        json.loads(line.removeprefix("RESULT "))
        for proc in done
        for line in proc.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    sha = sha256_file(archive)
    assert [r["archive_sha256"] for r in results] == [sha, sha]
    assert sorted(r["reused"] for r in results) == [False, True]
    assert check_published(home).archive_sha256 == sha
    assert sorted(p.name for p in home.raw.iterdir()) == [sha, f"{sha}.zip"]
    assert sorted(p.name for p in home.tensors.iterdir()) == [
        "manifest.json",
        "test.parquet",
        "train.parquet",
    ]


def _bad_label_archive(path: Path) -> Path:
    files = synthetic_files()
    lines = files[labels_member("train")].splitlines(keepends=True)
    lines[3] = "7\n"
    files[labels_member("train")] = "".join(lines)
    return write_archive(path, files)


def test_a_refused_archive_leaves_nothing_in_raw(tmp_path: Path) -> None:
    """Each refusal used to keep its zip and its whole extraction under raw/."""
    home = DataHome.resolve(tmp_path / "home")
    not_a_zip = tmp_path / "page.zip"
    not_a_zip.write_text("<!DOCTYPE html><html>Please log in</html>")
    with pytest.raises(ArchiveError, match=r"page.zip \(raw/.*\): not a readable zip"):
        ingest(source=str(not_a_zip), data_home=str(home.root), profile="custom")
    with pytest.raises(ContractError, match=r"y_train.txt line 4: label=7"):
        ingest(source=str(_bad_label_archive(tmp_path / "l.zip")), data_home=str(home.root),
               profile="custom")  # fmt: skip
    garbled = synthetic_files()
    body_x = signal_member("train", "body_acc_x")
    garbled[body_x] = "not a number\r\n" + garbled[body_x]
    with pytest.raises(RawDataError, match=r"body_acc_x_train.txt line 1"):
        ingest(source=str(write_archive(tmp_path / "s.zip", garbled)),
               data_home=str(home.root), profile="custom")  # fmt: skip
    good = make_synthetic_archive(tmp_path / "good.zip")
    with pytest.raises(ContractError, match="expect_table_row_count_to_equal"):
        ingest(source=str(good), data_home=str(home.root), profile="official")
    assert list(home.raw.iterdir()) == []
    assert not home.tensors.exists() or list(home.tensors.iterdir()) == []


def test_the_published_archive_is_kept_when_a_stricter_ingest_refuses_it(tmp_path) -> None:
    """Published under --profile custom, then asked for under official: the official checks
    run (they were never run on it) and refuse it; the published data and its zip stay."""
    home = DataHome.resolve(tmp_path / "home")
    good = make_synthetic_archive(tmp_path / "good.zip")
    ingest(source=str(good), data_home=str(home.root), profile="custom")
    with pytest.raises(ContractError):
        ingest(source=str(good), data_home=str(home.root), profile="official")
    sha = sha256_file(good)
    assert home.archive(sha).is_file() and check_published(home).archive_sha256 == sha


_HOLDER = """
import sys, time
from har_data.layout import DataHome
from har_data.locks import archive_lock_path, hold
home = DataHome.resolve(sys.argv[1])
with hold(archive_lock_path(home, sys.argv[2])):
    print("holding", flush=True)
    time.sleep(600)
"""


def test_leftovers_of_a_killed_ingest_go_at_the_next_start(tmp_path: Path) -> None:
    """A live ingest's temporaries stay; once its process is killed (the kernel drops its
    lock), the next ingest removes them."""
    home = DataHome.resolve(tmp_path / "home")
    archive = make_synthetic_archive(tmp_path / "a.zip")
    sha, other = sha256_file(archive), "ab" * 32
    partial = home.raw / f".{other}-partial-k1l2"
    staging = home.tensors / f".staging-{other}-x9"
    fetch = home.raw / f".fetch-{fetch_key('http://x/y.zip')}-q1.zip"
    for folder in (partial / "UCI HAR Dataset", staging):
        folder.mkdir(parents=True)
        (folder / "data.txt").write_text("half written")
    fetch.write_bytes(b"PK\x03\x04 half a download")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(home.root), other],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        ingest(source=str(archive), data_home=str(home.root), profile="custom")
        assert partial.is_dir() and staging.is_dir(), "a live ingest's work was removed"
        assert not fetch.exists(), "no live fetch holds that download's lock"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    again = ingest(source=str(archive), data_home=str(home.root), profile="custom")
    assert again.reused
    assert sorted(p.name for p in home.raw.iterdir()) == [sha, f"{sha}.zip"]
    assert sorted(p.name for p in home.tensors.iterdir() if p.name.startswith(".")) == []


def test_unkeyed_leftovers_of_older_versions_go_once_a_day_old(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home")
    old, new = home.raw / ".partial-abc.zip", home.tensors / ".staging-def"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x")
    new.mkdir(parents=True)
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    assert remove_leftovers(home) == [old]
    assert new.is_dir()


def test_lock_free_leftovers_are_removed_but_held_ones_kept(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home")
    held, free = "cd" * 32, "ef" * 32
    for sha in (held, free):
        (home.raw / f".{sha}-partial-1").mkdir(parents=True)
    with hold(archive_lock_path(home, held)):
        assert remove_leftovers(home) == [home.raw / f".{free}-partial-1"]
    assert (home.raw / f".{held}-partial-1").is_dir()


def test_files_follow_the_process_umask(tmp_path: Path) -> None:
    """A data home shared by a group needs group-readable (here group-writable) files; the
    archive copy, the extraction and the staging folder used to be private (0600/0700)."""
    home = DataHome.resolve(tmp_path / "home")
    archive = make_synthetic_archive(tmp_path / "a.zip")
    before = os.umask(0o002)
    try:
        ingest(source=str(archive), data_home=str(home.root), profile="custom")
    finally:
        os.umask(before)
    sha = sha256_file(archive)
    modes = {
        "raw/<sha>.zip": home.archive(sha).stat().st_mode & 0o777,
        "raw/<sha>/": home.extraction(sha).stat().st_mode & 0o777,
        "train.parquet": home.split_path("train").stat().st_mode & 0o777,
        "manifest.json": home.manifest.stat().st_mode & 0o777,
        "tensors/": home.tensors.stat().st_mode & 0o777,
    }
    assert modes == {
        "raw/<sha>.zip": 0o664,
        "raw/<sha>/": 0o775,
        "train.parquet": 0o664,
        "manifest.json": 0o664,
        "tensors/": 0o775,
    }
    signals = next(home.extraction(sha).rglob("Inertial Signals"))
    assert signals.stat().st_mode & 0o777 == 0o775


def test_an_html_page_is_reported_as_such_and_not_kept(tmp_path: Path, http_server) -> None:
    url, www = http_server
    (www / "download.html").write_text("<!DOCTYPE html><html><body>Sign in</body></html>")
    home = DataHome.resolve(tmp_path / "home")
    with pytest.raises(ArchiveError, match=r"server returned text/html, not a zip archive"):
        ingest(source=f"{url}/download.html", data_home=str(home.root), profile="custom")
    assert list(home.raw.iterdir()) == []
