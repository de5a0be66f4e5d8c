"""The scheduled deployment's parameters: explicit, affordable, pinned, named by their slot."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from data_contracts.dataset import OFFICIAL_SHA256, OFFICIAL_URL
from flows.pipeline import pipeline
from har_models.registry import ARCHITECTURES, get_spec
from har_models.study import SCHEDULED_PREFIX, STUDY_ID_PATTERN, default_study_id

REPO = Path(__file__).resolve().parents[1]
# Idle seconds per epoch on the 2-core development CPU (BENCHMARKS.md).
CPU_S_PER_EPOCH = {"lstm": 9.9, "cnn_lstm": 5.8, "convlstm": 8.6, "stacked_lstm": 4.8}


def deployment(name: str) -> dict[str, object]:
    spec = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text())
    return next(d for d in spec["deployments"] if d["name"] == name)


def test_scheduled_parameters_are_explicit_valid_and_pinned() -> None:
    params = deployment("scheduled-retrain")["parameters"]
    assert isinstance(params, dict)
    # Every parameter that changes what is trained or on what data is spelled out.
    for name in ("source", "expected_sha256", "profile", "architectures", "repeats", "protocol"):
        assert params.get(name) is not None, name
    assert params["source"] == OFFICIAL_URL
    assert params["expected_sha256"] == OFFICIAL_SHA256
    assert params["study_prefix"] == SCHEDULED_PREFIX
    assert "study_id" not in params  # each run gets its own, from its scheduled time
    pipeline.validate_parameters(params)  # the flow (and so the server) accepts them


def test_scheduled_study_fits_a_cpu_worker_between_two_runs() -> None:
    params = deployment("scheduled-retrain")["parameters"]
    assert isinstance(params, dict)
    seconds = sum(
        params["repeats"] * get_spec(arch).recipe.epochs * CPU_S_PER_EPOCH[arch]
        for arch in params["architectures"]
    )
    assert seconds < 3600, f"{seconds / 3600:.1f} h of CPU training every week"
    assert set(params["architectures"]) <= set(ARCHITECTURES)


def test_scheduled_study_id_names_the_slot_in_utc() -> None:
    slot = datetime(2026, 11, 23, 4, 0, tzinfo=timezone(timedelta(hours=1)))  # 03:00 UTC
    study_id = default_study_id(SCHEDULED_PREFIX, slot)
    assert study_id == "scheduled-20261123T030000Z"
    assert re.match(STUDY_ID_PATTERN, study_id)


def test_the_pinned_hash_is_the_official_archive(real_archive: Path) -> None:
    assert hashlib.sha256(real_archive.read_bytes()).hexdigest() == OFFICIAL_SHA256
