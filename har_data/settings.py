"""Settings read from the environment, in one place: every entry point honours them alike.

``HAR_HOME`` (data home), ``HAR_SOURCE`` (archive URL or path), ``HAR_REPORTS_URL`` (where
``reports/`` is served over HTTP, for links in artifacts) and ``HAR_RETRY_DELAY_S`` (the
training task's retry delay). Values are read when :func:`get_settings` is called, so a
changed environment (a test, a worker with its own variables) is seen at once.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from data_contracts.dataset import OFFICIAL_URL

DEFAULT_HOME = Path("har-data")


class HarSettings(BaseSettings):
    """The pipeline's environment (prefix ``HAR_``); explicit arguments always win over it."""

    model_config = SettingsConfigDict(env_prefix="HAR_", extra="ignore", frozen=True)

    home: Path = Field(DEFAULT_HOME, description="the data home")
    source: str = Field(OFFICIAL_URL, description="the archive's URL or local path")
    reports_url: str | None = Field(
        None, description="base URL at which <data home>/reports is served (links in artifacts)"
    )
    retry_delay_s: float = Field(5.0, ge=0, description="delay before a training run is retried")


def get_settings() -> HarSettings:
    return HarSettings()
