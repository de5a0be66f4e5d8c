"""Both splits are one unit: the manifest names them (with their sha256) and the archive, and
training refuses a train/test pair that was not published together."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.ingest import ingest
from flows.train import train
from har_data.layout import DataHome
from har_data.manifest import ManifestError, check_published, read_manifest
from har_data.synthetic import make_synthetic_archive
from har_models.run import resolve_training_data, train_one_run
from tests.synthetic_tensors import SYNTHETIC_SHA256, run_params, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_published_pair_is_accepted_with_its_archive(tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=1)
    found = check_published(home)
    assert found.archive_sha256 == SYNTHETIC_SHA256 and found.profile == "custom"
    assert resolve_training_data(str(home.root)) == (home, SYNTHETIC_SHA256)


def test_a_split_replaced_after_publish_is_refused(tmp_path: Path) -> None:
    """Same archive in its metadata, other content: only the manifest's sha256 tells."""
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=1)
    other = write_synthetic_tensors(tmp_path / "other", n_per_class_subject=1, seed=7)
    shutil.copyfile(other.split_path("test"), home.split_path("test"))
    with pytest.raises(ManifestError, match=r"test.parquet is not the file .*manifest.json names"):
        resolve_training_data(str(home.root))
    with pytest.raises(ManifestError, match="run the ingest flow again"):
        train_one_run(run_params(other, data_home=str(home.root)))
    assert not home.runs.exists() or not list(home.runs.rglob("*.pt"))


def test_missing_or_unreadable_manifest_is_refused(tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=1)
    home.manifest.write_text("{not json")
    with pytest.raises(ManifestError, match="unreadable manifest"):
        check_published(home)
    home.manifest.unlink()
    with pytest.raises(ManifestError, match=r"manifest.json is missing"):
        check_published(home)


def test_manifest_without_hashes_still_checks_each_files_archive(tmp_path: Path) -> None:
    """Data homes published before the manifest named hashes keep working, and are still
    checked against the archive each file records."""
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=1)
    old = {"archive_sha256": SYNTHETIC_SHA256, "source": "x", "rows": {}, "files": {}}
    old["files"] = {"train": "train.parquet", "test": "test.parquet"}
    home.manifest.write_text(json.dumps(old))
    assert check_published(home).profile == ""
    home.manifest.write_text(json.dumps({**old, "archive_sha256": "f" * 64}))
    with pytest.raises(ManifestError, match="names archive ffffffffffff"):
        check_published(home)


@pytest.fixture
def two_archive_homes(tmp_path: Path, prefect_harness: None) -> tuple[DataHome, DataHome]:
    """Two data homes, each ingested from a synthetic archive of its own (different seeds)."""
    homes = []
    for seed in (0, 1):
        archive = make_synthetic_archive(tmp_path / f"a{seed}.zip", seed=seed)
        ingest(source=str(archive), data_home=str(tmp_path / f"h{seed}"), profile="custom")
        homes.append(DataHome.resolve(tmp_path / f"h{seed}"))
    return homes[0], homes[1]


def test_train_and_test_from_different_archives_are_refused(two_archive_homes, tmp_path) -> None:
    """As a kill between the two renames of a publish would leave them: train from one
    archive, test from another. Training refuses before anything runs."""
    home, other = two_archive_homes
    manifest = read_manifest(home)
    assert set(manifest["files"]) == {"train", "test"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    old_test = shutil.copyfile(home.split_path("test"), tmp_path / "old-test.parquet")
    shutil.copyfile(other.split_path("test"), home.split_path("test"))
    with pytest.raises(ManifestError, match=r"train.parquet comes from archive .* but .*test"):
        resolve_training_data(str(home.root))
    state = train(
        architectures=["lstm"], repeats=1, epochs=1, device="cpu", data_home=str(home.root),
        study_id="mixed", max_workers=1, return_state=True,
    )  # fmt: skip
    assert state.is_failed() and "not published together" in state.message
    assert not home.study_dir("mixed").exists()

    # The other order: the new train file and manifest are in, the test file is still old.
    shutil.copyfile(other.split_path("train"), home.split_path("train"))
    shutil.copyfile(other.manifest, home.manifest)
    shutil.copyfile(old_test, home.split_path("test"))
    with pytest.raises(ManifestError, match="not published together"):
        resolve_training_data(str(home.root))

    # Ingesting again publishes a matching pair, which trains.
    ingest(source=str(tmp_path / "a1.zip"), data_home=str(home.root), profile="custom")
    assert check_published(home).archive_sha256 == check_published(other).archive_sha256
