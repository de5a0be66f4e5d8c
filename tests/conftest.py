"""Shared fixtures: an isolated Prefect home per test, the Prefect test harness, archives."""

from __future__ import annotations

import http.server
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Retried training runs wait this long (HAR_RETRY_DELAY_S); tests do not wait.
os.environ.setdefault("HAR_RETRY_DELAY_S", "0")
# A home of the session's own before prefect is imported anywhere; each test narrows it below.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="har-prefect-home-")

from prefect.settings import PREFECT_HOME, temporary_settings

from har_data.synthetic import make_synthetic_archive

REPO = Path(__file__).resolve().parents[1]
REAL_ARCHIVE_DEFAULT = REPO.parent / "shared" / "data" / "uci-har" / "UCI HAR Dataset.zip"


# Cost classes (pyproject markers): a test is ``e2e`` when its module says so, ``integration``
# when it needs the Prefect harness, the real archive or a subprocess, else ``unit``.
INTEGRATION_FIXTURES = {"prefect_harness", "real_archive", "http_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") or item.get_closest_marker("integration"):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & INTEGRATION_FIXTURES:
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """The test machine's cores are shared: one thread avoids contended thread pools."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _isolated_prefect_home(tmp_path: Path) -> Iterator[Path]:
    """Every test gets its own PREFECT_HOME, so no state leaks between tests."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    with temporary_settings(updates={PREFECT_HOME: str(home)}):
        yield home


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throwaway Prefect API (temporary database) shared by the tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def synthetic_archive(tmp_path: Path) -> Path:
    """A small archive with the real UCI HAR layout (2 windows per class and subject)."""
    return make_synthetic_archive(tmp_path / "synthetic.zip")


@pytest.fixture(scope="session")
def real_archive() -> Path:
    """The real UCI HAR copy beside the checkout (CI has it); required in CI."""
    candidates = [os.environ.get("HAR_REAL_ARCHIVE"), os.environ.get("HAR_SOURCE")]
    for c in [*candidates, str(REAL_ARCHIVE_DEFAULT)]:
        if c and Path(c).is_file():
            return Path(c)
    pytest.fail(
        f"the real UCI HAR archive is required and was not found at {REAL_ARCHIVE_DEFAULT}; "
        "set HAR_REAL_ARCHIVE (or HAR_SOURCE) to a local copy"
    )


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real local HTTP server serving ``tmp_path/www``."""
    www = tmp_path / "www"
    www.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(www), **k)

        def log_message(self, *a):  # keep test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", www
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def real_home(
    real_archive: Path, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A data home with the real archive ingested once for the session (the ingest flow)."""
    from flows.ingest import ingest

    home = tmp_path_factory.mktemp("real-home")
    ingest(source=str(real_archive), data_home=str(home))
    return home
