"""``make reports`` serves the data home's reports/ over HTTP on the chosen port, so the
links in artifacts (HAR_REPORTS_URL) open in a browser on another machine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from har_reports.links import report_link

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_reports_serves_the_reports_folder(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    report = home / "reports" / "scheduled-20261123T030000Z" / "report.html"
    report.parent.mkdir(parents=True)
    report.write_text("<html>the report</html>")
    env = {**os.environ, "HAR_HOME": str(home)}
    env.pop("MAKEFLAGS", None)
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "reports", f"PORT={port}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/"
        url = report_link(report.parent, home / "reports", base)
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.text == "<html>the report</html>"
        assert httpx.get(base + "nope/report.html", timeout=2).status_code == 404
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
