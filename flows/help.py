"""The help text of every flow parameter, written once.

Each flow's docstring gets an ``Args:`` section built from this table by :func:`documented`
(applied under ``@flow``), and that docstring is what Prefect's deployment parameter schema
and the ``har`` command line both read: a parameter shared by several flows (``data_home``,
``repeats``, ...) is described the same way everywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Final, TypeVar

F = TypeVar("F", bound=Callable[..., object])

HELP: Final[dict[str, str]] = {
    "source": "Archive URL, file:// URL or path (default ``$HAR_SOURCE``, then the official UCI URL).",
    "expected_sha256": "Refuse an archive whose sha256 is not this.",
    "profile": "``official`` checks the official row and subject counts; ``custom`` skips them (other archives in the same layout, e.g. synthetic ones).",
    "architectures": "Architectures to train (default: every registered one; see ``har models``).",
    "architecture": "The architecture to train (see ``har models``).",
    "repeats": "Training runs per architecture.",
    "repeat": "The repeat's number within its study (its run id).",
    "seed": "The run's seed.",
    "protocol": "``published``: the recipe's fixed epochs on all training subjects, then one evaluation on test, as the originals did; ``validated``: the epoch count chosen on held-out training subjects, then a refit on all of them that keeps the mean of its last epochs' weights.",
    "epochs": "Override every recipe's epoch count.",
    "device": "``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.",
    "base_seed": "Repeat k uses seed base_seed + k.",
    "data_home": "The data home (default ``$HAR_HOME``, then ``./har-data``).",
    "study_id": "Folder name under ``runs/`` and ``reports/`` (default: a UTC timestamp); rerunning a study id reuses its finished runs.",
    "dispatch": "Where runs execute: ``local`` threads or processes, a ``dask`` cluster, or one ``deployment`` flow run each (``har-train-one/gpu``).",
    "dask_address": "Scheduler of an existing Dask cluster (``tcp://host:8786``; default: a local cluster).",
    "max_workers": "Concurrent training processes (default: the split of the cores measured fastest for this study).",
    "batching": "``batched``: an architecture's repeats train as one computation (``published`` protocol; closed-form models alone); ``solo``: one run at a time per process; ``auto``: whichever measures faster on this study's data and device.",
    "study_prefix": "Put before the UTC timestamp of a default study id (e.g. ``scheduled-``).",
    "recipe_overrides": "Recipe fields to change for this run (a variant chosen on validation subjects).",
}


def documented(**own: str) -> Callable[[F], F]:
    """Append an ``Args:`` section for every parameter of the function from :data:`HELP`
    (``own`` replaces an entry where a flow means something else by the same name)."""

    def apply(fn: F) -> F:
        texts = {**HELP, **own}
        names = list(inspect.signature(fn).parameters)
        missing = [n for n in names if n not in texts]
        if missing:
            raise KeyError(f"{fn.__name__}: no help for parameter(s) {missing} in flows/help.py")
        doc = inspect.cleandoc(fn.__doc__ or "")
        lines = [f"        {name}: {texts[name]}" for name in names]
        fn.__doc__ = doc.replace("\n", "\n    ") + "\n\n    Args:\n" + "\n".join(lines) + "\n"
        return fn

    return apply
