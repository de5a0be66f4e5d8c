"""report.html opened in a real headless Chromium: the embedded figures actually render."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from har_models.results import read_metrics
from har_reports.content import FIGURES, build_report
from har_reports.render import render_html
from har_reports.sample import make_sample_study

WIDTH, HEIGHT = 1280, 7000


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    pytest.fail("this test needs chromium on PATH: apt-get install chromium (.ci/run does)")


def screenshot(html: Path, tmp: Path) -> np.ndarray:
    png = tmp / f"{html.stem}.png"
    subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--hide-scrollbars",
            f"--user-data-dir={tmp / f'profile-{html.stem}'}",
            f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}", html.as_uri(),
        ],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def saturated(img: np.ndarray) -> np.ndarray:
    """Pixels with strong color (figure bars, points, heat maps), not text, grey or white."""
    return (img.max(axis=2) - img.min(axis=2)) > 80


@pytest.mark.e2e
def test_report_html_renders_its_figures_in_chromium(tmp_path: Path) -> None:
    accs = {"lstm": [0.89, 0.90, 0.88], "cnn_lstm": [0.905, 0.91, 0.915]}
    make_sample_study(tmp_path / "study", accs)
    content = build_report("browser", read_metrics(tmp_path / "study"), {}, None, "t")
    html = render_html(content)
    (tmp_path / "report.html").write_text(html)
    # The same page with every image emptied: what a page whose figures failed looks like.
    blank = re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', html)
    assert blank.count('src=""') == len(FIGURES)
    (tmp_path / "blank.html").write_text(blank)

    shot, empty = (
        screenshot(tmp_path / "report.html", tmp_path),
        screenshot(tmp_path / "blank.html", tmp_path),
    )
    assert shot.shape == empty.shape == (HEIGHT, WIDTH, 3)
    rows_with_color = saturated(shot).any(axis=1)
    assert saturated(empty).sum() < 2000  # text and tables alone are nearly colorless
    assert saturated(shot).sum() > 50 * saturated(empty).sum() + 20_000
    # Four figures: at least four separate bands of rows holding colored pixels.
    starts = np.flatnonzero(np.diff(rows_with_color.astype(int)) == 1)
    assert len(starts) >= len(FIGURES)
    # The architecture colors themselves reached the screen (tab10 blue and orange, ± 12).
    for rgb in ((31, 119, 180), (255, 127, 14)):
        assert (np.abs(shot - rgb).max(axis=2) <= 12).sum() > 500
        assert (np.abs(empty - rgb).max(axis=2) <= 12).sum() == 0
