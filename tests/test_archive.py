"""Archive handling: hashing, local sources, downloads, safe and nested extraction."""

from __future__ import annotations

import hashlib
import io
import socket
import stat
import zipfile
from pathlib import Path

import pytest

from data_contracts.dataset import INNER_ZIP_NAME, ROOT_DIR, signal_member
from har_data import archive as arc
from har_data.synthetic import synthetic_files, write_archive


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sha256_matches_hashlib(synthetic_archive: Path) -> None:
    assert (
        arc.sha256_file(synthetic_archive)
        == hashlib.sha256(synthetic_archive.read_bytes()).hexdigest()
    )


def test_check_sha256_mismatch_names_source(synthetic_archive: Path) -> None:
    with pytest.raises(arc.ArchiveError, match="sha256 mismatch"):
        arc.check_sha256(synthetic_archive, "0" * 64, "my-source")
    assert arc.check_sha256(synthetic_archive, None, "x") == arc.sha256_file(synthetic_archive)


def test_local_path_accepts_file_urls_and_paths(tmp_path: Path) -> None:
    p = tmp_path / "UCI HAR Dataset.zip"
    assert arc.local_path(p.as_uri()) == p
    assert arc.local_path(str(p)) == p
    assert arc.is_remote("https://x/y.zip") and not arc.is_remote(p.as_uri())


def test_download_streams_to_temp_then_stores(
    http_server, synthetic_archive: Path, tmp_path: Path
) -> None:
    url, www = http_server
    (www / "a.zip").write_bytes(synthetic_archive.read_bytes())
    raw = tmp_path / "raw"
    tmp = arc.download(f"{url}/a.zip", raw, timeout_s=5, progress=False)
    sha = arc.check_sha256(tmp, arc.sha256_file(synthetic_archive), url)
    dest = arc.store(tmp, raw, sha)
    assert dest.name == f"{sha}.zip" and dest.read_bytes() == synthetic_archive.read_bytes()
    assert [p.name for p in raw.iterdir()] == [dest.name]  # no temp file left


def test_download_404_is_not_retryable(http_server, tmp_path: Path) -> None:
    url, _ = http_server
    with pytest.raises(arc.ArchiveError, match="HTTP 404"):
        arc.download(f"{url}/missing.zip", tmp_path / "raw", timeout_s=5, progress=False)
    assert list((tmp_path / "raw").iterdir()) == []


def test_download_of_an_html_page_says_so_and_keeps_nothing(http_server, tmp_path: Path) -> None:
    """A login or error page used to be stored as raw/<sha>.zip and reported only as
    "not a readable zip archive"."""
    url, www = http_server
    (www / "UCI.html").write_text("<!DOCTYPE html><html><body>Please sign in</body></html>")
    with pytest.raises(arc.ArchiveError, match=r"UCI.html: server returned text/html, not a zip"):
        arc.download(f"{url}/UCI.html", tmp_path / "raw", timeout_s=5, progress=False)
    assert list((tmp_path / "raw").iterdir()) == []


def test_download_of_bytes_that_are_not_a_zip_says_what_came(http_server, tmp_path) -> None:
    """A page served as application/octet-stream is caught by its first bytes."""
    url, www = http_server
    (www / "UCI.bin").write_text("<html>Moved</html>")
    with pytest.raises(
        arc.ArchiveError,
        match=r"server returned application/octet-stream content that is not a zip archive "
        r"\(it starts with b'<html>Moved",
    ):
        arc.download(f"{url}/UCI.bin", tmp_path / "raw", timeout_s=5, progress=False)
    assert list((tmp_path / "raw").iterdir()) == []


def test_extraction_that_loses_a_race_uses_the_winners(synthetic_archive, tmp_path) -> None:
    """Another process renamed its extraction into place while this one extracted: this one
    is dropped and the published one used (it used to fail with "Directory not empty")."""
    dest = tmp_path / "raw" / "sha"
    winner = tmp_path / "winner"
    arc.extract(synthetic_archive, winner)

    def publish_winner_first(message: str) -> None:  # called between the extraction and the rename
        if "wraps" in message:
            winner.rename(dest)

    outer = write_archive(tmp_path / "outer.zip", {INNER_ZIP_NAME: synthetic_archive.read_bytes()})
    steps: list[str] = []
    root = arc.extract(outer, dest, on_step=lambda m: (steps.append(m), publish_winner_first(m)))
    assert root == dest / ROOT_DIR and (dest / signal_member("train", "body_acc_x")).is_file()
    assert any("another ingest extracted" in m for m in steps)
    assert [p.name for p in dest.parent.iterdir()] == ["sha"]


def test_download_unreachable_is_a_network_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/UCI.zip"
    with pytest.raises(arc.DownloadError, match=f"127.0.0.1:{url.split(':')[2].split('/')[0]}"):
        arc.download(url, tmp_path / "raw", timeout_s=2, progress=False)
    assert list((tmp_path / "raw").iterdir()) == []


def test_extract_plain_archive(synthetic_archive: Path, tmp_path: Path) -> None:
    root = arc.extract(synthetic_archive, tmp_path / "x")
    assert root == tmp_path / "x" / ROOT_DIR
    assert (tmp_path / "x" / signal_member("train", "body_acc_x")).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial dir left


def test_extract_nested_uci_download(synthetic_archive: Path, tmp_path: Path) -> None:
    outer = write_archive(tmp_path / "outer.zip", {INNER_ZIP_NAME: synthetic_archive.read_bytes()})
    arc.extract(outer, tmp_path / "x")
    assert (tmp_path / "x" / signal_member("test", "total_acc_z")).is_file()
    assert not (tmp_path / "x" / ".inner.zip").exists()


def _zip_with(tmp_path: Path, name: str, data: bytes = b"x", mode: int | None = None) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, text in synthetic_files().items():
            zf.writestr(member, text)
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)
    path = tmp_path / "evil.zip"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize(
    ("entry", "mode", "message"),
    [
        ("../evil.txt", None, "contains '..'"),
        (f"{ROOT_DIR}/../../evil.txt", None, "contains '..'"),
        ("/etc/evil.txt", None, "absolute path"),
        (f"{ROOT_DIR}/link", stat.S_IFLNK | 0o777, "symbolic link"),
    ],
)
def test_extract_refuses_unsafe_entries(
    tmp_path: Path, entry: str, mode: int | None, message: str
) -> None:
    bad = _zip_with(tmp_path, entry, b"/etc/passwd", mode)
    with pytest.raises(arc.ArchiveError, match=message) as e:
        arc.extract(bad, tmp_path / "x")
    assert repr(entry) in str(e.value)
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert {p.name for p in tmp_path.iterdir()} == {"evil.zip", "prefect-home"}


def test_extract_refuses_zip_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{ROOT_DIR}/zeros.txt", b"\0" * (8 << 20))
    with pytest.raises(arc.ArchiveError, match=r"zeros.txt.*zip bomb"):
        arc.extract(bomb, tmp_path / "x")
    with pytest.raises(arc.ArchiveError, match="exceeds 1000 bytes at entry"):
        arc.extract(_zip_with(tmp_path, "a.txt"), tmp_path / "y", max_bytes=1000)


def test_extract_corrupt_and_truncated(synthetic_archive: Path, tmp_path: Path) -> None:
    data = synthetic_archive.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(arc.ArchiveError, match=r"truncated.zip: not a readable zip"):
        arc.extract(truncated, tmp_path / "x")
    # Flip bytes inside the compressed data of the first member: CRC or inflate fails.
    corrupt = bytearray(data)
    for i in range(200, 400):
        corrupt[i] ^= 0xFF
    (tmp_path / "corrupt.zip").write_bytes(bytes(corrupt))
    with pytest.raises(arc.ArchiveError, match=r"corrupt.zip: entry .* is corrupt"):
        arc.extract(tmp_path / "corrupt.zip", tmp_path / "y")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_an_archive_without_the_dataset_folder_is_refused(tmp_path: Path) -> None:
    other = write_archive(tmp_path / "photos.zip", {"holiday/beach.txt": "not HAR data"})
    with pytest.raises(arc.ArchiveError, match="no 'UCI HAR Dataset' folder inside"):
        arc.extract(other, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
