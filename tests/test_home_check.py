"""An unwritable data home is refused up front, in one line naming HAR_HOME/--data-home,
the path, why, and how to change it (it used to surface as raw OSErrors deep in a task)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from har_data.home_check import DataHomeError, check_data_home
from tests.processes import REPO

HOW = "set HAR_HOME or pass --data-home to a folder you can write to"


def test_a_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file")
    home = tmp_path / "notes.txt" / "har"
    with pytest.raises(DataHomeError) as err:
        check_data_home(str(home), ("raw", "tensors"))
    message = str(err.value)
    assert f"data home {home} is not writable: {tmp_path / 'notes.txt'} is a file" in message
    assert "--data-home" in message and HOW in message and "\n" not in message


def test_a_path_in_proc_names_har_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc takes no new folders: the raw error said only "No such file or directory"."""
    monkeypatch.setenv("HAR_HOME", "/proc/har-data")
    with pytest.raises(DataHomeError) as err:
        check_data_home(None, ("runs",))
    message = str(err.value)
    assert message.startswith("data home /proc/har-data is not writable: cannot create it")
    assert "that filesystem takes no new folders" in message
    assert "It comes from HAR_HOME" in message and HOW in message


def test_the_default_home_is_named_as_the_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HAR_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "har-data").write_text("a file where the data home should be")
    with pytest.raises(DataHomeError, match=r"the default ./har-data \(no HAR_HOME set\)"):
        check_data_home(None)


def test_a_writable_home_passes_and_nothing_is_created(tmp_path: Path) -> None:
    space = tmp_path / "space"
    space.mkdir()
    home = check_data_home(str(space / "new" / "home"), ("raw", "tensors", "runs"))
    assert home.root == space / "new" / "home"
    assert list(space.iterdir()) == []  # checked by probing, not by creating folders


_CHECK = """
import os, sys
from har_data.home_check import DataHomeError, check_data_home
if os.geteuid() == 0:  # root writes anywhere: check as nobody, once everything is imported
    os.setuid(65534)
try:
    check_data_home(sys.argv[1], ("runs",))
except DataHomeError as e:
    print(e)
"""


def test_a_read_only_folder(tmp_path: Path) -> None:
    """A data home another user made read-only (root ignores modes: checked as nobody)."""
    shared = Path(tempfile.mkdtemp(prefix="har-ro-"))  # outside pytest's private tmp
    try:
        (shared / "runs").mkdir()
        for folder in (shared, shared / "runs"):
            folder.chmod(0o555)
        out = subprocess.run(
            [sys.executable, "-c", _CHECK, str(shared)],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert out.startswith(f"data home {shared} (its folder {shared / 'runs'}) is not writable")
        assert "cannot write a file in it: Permission denied" in out and HOW in out
    finally:
        for folder in (shared, shared / "runs"):
            folder.chmod(0o755)
        shutil.rmtree(shared)


@pytest.mark.usefixtures("prefect_harness")
def test_every_writing_flow_checks_first(tmp_path: Path) -> None:
    from flows.ingest import ingest
    from flows.pipeline import pipeline
    from flows.report import report
    from flows.train import train

    blocker = tmp_path / "file"
    blocker.write_text("x")
    home = str(blocker / "home")
    calls = {
        "ingest": lambda: ingest(source="/nowhere.zip", data_home=home),
        "train": lambda: train(architectures=["lstm"], repeats=1, data_home=home),
        "report": lambda: report(study_id="s", data_home=home),
        "pipeline": lambda: pipeline(source="/nowhere.zip", data_home=home),
    }
    for call in calls.values():
        with pytest.raises(DataHomeError, match=f"{blocker} is a file, not a folder"):
            call()
