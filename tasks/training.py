"""The training flow's Prefect task: :func:`tasks.train_run.train_one_run`, cached on the
run's inputs and code version, retried on failure."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from har_models.registry import get_spec
from tasks.train_run import code_version, train_one_run


def run_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same study, data, architecture, recipe, seed, protocol and code -> same result."""
    spec = get_spec(parameters["architecture"])
    key = {
        "study_id": parameters["study_id"],
        "study_dir": os.fspath(parameters["study_dir"]),
        "data_sha256": parameters["data_sha256"],
        "architecture": parameters["architecture"],
        "repeat": parameters["repeat"],
        "recipe": spec.recipe.with_overrides(
            epochs=parameters.get("epochs"), **(parameters.get("recipe_overrides") or {})
        ).as_dict(),
        "hparams": spec.hparams,
        "seed": parameters["seed"],
        "protocol": parameters["protocol"],
        "code": code_version(),
    }
    return "har-train-" + hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


# The flow's task is the plain function itself: cached on :func:`run_cache_key`, retried;
# the flow sets ``result_storage`` under the data home.
train_run_task = task(
    train_one_run,
    name="train-run",
    task_run_name="train-{architecture}-r{repeat:02d}",
    retries=2,
    retry_delay_seconds=5,
    cache_key_fn=run_cache_key,
    persist_result=True,
)
