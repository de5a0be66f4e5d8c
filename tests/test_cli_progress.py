"""Progress bars only on an interactive terminal: piped or logged output gets log lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from har_data import archive as arc


def test_download_shows_no_progress_bar_when_not_on_a_terminal(
    http_server: tuple[str, Path],
    synthetic_archive: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    url, www = http_server
    (www / "a.zip").write_bytes(synthetic_archive.read_bytes())
    tmp = arc.download(f"{url}/a.zip", tmp_path / "raw", timeout_s=5)  # progress=True
    assert tmp.read_bytes() == synthetic_archive.read_bytes()
    captured = capfd.readouterr()
    assert "download UCI HAR" not in captured.err + captured.out
