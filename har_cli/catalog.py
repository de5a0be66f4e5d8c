"""``har models``, ``har studies``, ``har best``: what can be trained, what was, and which
checkpoint to use."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from har_cli.output import mean_std, note, print_json, print_table
from har_models.catalog import Metric

Json = Annotated[bool, Parameter(name="--json")]


def models(*, as_json: Json = False) -> None:
    """List the registered architectures: family, trainable parameters, default recipe.

    The recommended architecture, where the registry names one, is marked with ``*``.

    Args:
        as_json: Print JSON (every recipe field) instead of a table.
    """
    from dataclasses import asdict

    from har_models.catalog import model_catalog

    catalog = model_catalog()
    if as_json:
        print_json([asdict(m) for m in catalog])
        return
    rows = [
        [
            m.name + (" *" if m.recommended else ""),
            m.family,
            m.n_params,
            m.recipe["epochs"],
            m.recipe["batch_size"],
            f"{m.recipe['optimizer']} {m.recipe['lr']:g}",
            m.recipe["loss"],
            m.note,
        ]
        for m in catalog
    ]
    print_table(["name", "family", "params", "epochs", "batch", "optimizer", "loss", "note"], rows)
    if any(m.recommended for m in catalog):
        note("* recommended")


def studies(*, data_home: str | None = None, as_json: Json = False) -> None:
    """List the studies trained in the data home, with their headline numbers.

    One row per study and architecture: completed and failed runs, test accuracy and
    macro-F1 (mean ± std over the completed runs, in percent) and the best run.

    Args:
        data_home: The data home (default ``$HAR_HOME``, then ``./har-data``).
        as_json: Print JSON instead of a table.
    """
    from har_data.layout import DataHome
    from har_models.catalog import study_summaries

    home = DataHome.resolve(data_home)
    rows, problems = study_summaries(home)
    for line in problems:
        note(f"warning: unreadable study {line}")
    if as_json:
        print_json([r.as_dict() for r in rows])
        return
    if not rows:
        note(f"no studies under {home.runs} (train one with `har pipeline` or `har train`)")
        return
    print_table(
        [
            "study",
            "architecture",
            "protocol",
            "runs",
            "failed",
            "accuracy %",
            "macro-F1 %",
            "best run",
        ],
        [
            [
                r.study_id,
                r.architecture,
                r.protocol,
                r.completed,
                r.failed,
                mean_std(r.accuracy_mean, r.accuracy_std),
                mean_std(r.macro_f1_mean, r.macro_f1_std),
                r.best_run,
            ]
            for r in rows
        ],
    )


def best(
    study_id: str,
    *,
    metric: Metric = "accuracy",
    architecture: str | None = None,
    data_home: str | None = None,
    as_json: Json = False,
) -> None:
    """Print the checkpoint of a study's best completed run.

    For example ``har predict "$(har best STUDY)" recording.csv``.

    Args:
        study_id: The study (a folder under ``runs/``; see ``har studies``).
        metric: Rank runs by their recorded test ``accuracy`` or ``macro_f1``.
        architecture: Only runs of this architecture.
        data_home: The data home (default ``$HAR_HOME``, then ``./har-data``).
        as_json: Print the run, its metric and checkpoint as JSON.
    """
    from har_data.layout import DataHome
    from har_models.catalog import best_run

    found = best_run(DataHome.resolve(data_home), study_id, metric, architecture)
    if as_json:
        print_json({**found.__dict__, "checkpoint": str(found.checkpoint)})
        return
    note(f"{found.run_id}: {metric} {found.value:.4f}")
    print(found.checkpoint)
