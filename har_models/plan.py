"""How a study uses the machine, chosen by measurement: how many runs at once, how many torch
threads each, and whether the repeats of an architecture train as one batched computation
(:mod:`har_models.batched`) or one by one.

:func:`measure` times a few training steps of every candidate on the study's own data and
device; :func:`choose` turns those timings into the study's estimated training time per
candidate and keeps the fastest. On a GPU one process drives the device (runs would only
contend for it), so only solo against batched is measured there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from har_models.batched import fit_repeats, group_sizes
from har_models.device import resolve_device
from har_models.protocol import SELECTION_FACTOR, SELECTION_FOLDS, check_protocol
from har_models.registry import Recipe, build_model, get_spec
from har_models.training import fit

MEASURE_STEPS = 3  # timed training steps per candidate, after as many untimed ones
# A forward pass (held-out scoring) over a batch costs about a third of a training step,
# which runs the forward pass, the backward pass (about twice the forward) and the update.
FORWARD_SHARE = 1 / 3


@dataclass(frozen=True)
class Candidate:
    workers: int  # runs (or repeat groups) in flight at once, one process each
    threads: int | None  # torch threads per process; None = torch's default (GPU)
    batched: bool  # repeats of an architecture as one computation, one group per worker


@dataclass(frozen=True)
class Plan:
    candidate: Candidate
    estimate_s: dict[Candidate, float] = field(default_factory=dict)  # study training time

    @property
    def workers(self) -> int:
        return self.candidate.workers

    @property
    def threads(self) -> int | None:
        return self.candidate.threads

    @property
    def batched(self) -> bool:
        return self.candidate.batched

    def describe(self) -> str:
        """One line per candidate, the chosen one first, for the flow's log."""
        ranked = sorted(self.estimate_s.items(), key=lambda kv: kv[1])
        return "; ".join(f"{label(c)}: ~{s / 60:.1f} min" for c, s in ranked) or label(
            self.candidate
        )


def label(c: Candidate) -> str:
    threads = "default threads" if c.threads is None else f"{c.threads} thread(s) each"
    mode = "batched repeats" if c.batched else "one run at a time per process"
    return f"{c.workers} process(es) x {threads}, {mode}"


def candidates(cores: int, gpu: bool, batchable: bool, workers: int | None) -> list[Candidate]:
    """Every split of ``cores`` into processes x threads (or the one ``workers`` fixes), solo
    and, where the study has batchable runs, batched."""
    modes = [False, True] if batchable else [False]
    if gpu:
        return [Candidate(1, None, b) for b in modes]
    splits = [w for w in range(1, cores + 1) if cores % w == 0] if workers is None else [workers]
    return [Candidate(w, max(1, cores // w), b) for w in splits for b in modes]


def step_seconds(
    architecture: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    repeats: int,
    batched: bool,
    threads: int | None,
    device: str,
) -> float:
    """Seconds of one training step of ``repeats`` runs of ``architecture`` at ``threads``
    torch threads, measured on the study's first windows: two epochs of
    :data:`MEASURE_STEPS` steps, the second one timed (solo: one run's step x ``repeats``).
    The global RNG and the thread count are left as they were."""
    recipe = get_spec(architecture).recipe
    n = min(len(x), recipe.batch_size * MEASURE_STEPS)
    recipe = recipe.with_overrides(epochs=2)
    steps = math.ceil(n / min(recipe.batch_size, n))
    before, state = torch.get_num_threads(), torch.random.get_rng_state()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        if batched:
            results = fit_repeats(
                architecture, x[:n], y[:n], seeds=range(repeats), recipe=recipe, device=device
            )
            seconds = float(results[0].history["seconds"].iloc[-1]) * repeats
        else:
            result = fit(architecture, x[:n], y[:n], seed=0, recipe=recipe, device=device)
            seconds = float(result.history["seconds"].iloc[-1]) * repeats
    finally:
        torch.set_num_threads(before)
        torch.random.set_rng_state(state)
    return seconds / steps


@dataclass(frozen=True)
class Work:
    """One architecture's share of a study: its runs and the training steps of each."""

    architecture: str
    runs: int
    steps_per_run: int


def run_steps(recipe: Recipe, n_train: int, protocol: str) -> int:
    """Training steps of one run: the recipe's epochs on every window. ``validated`` adds its
    selection runs, each on the windows of all but one fold of subjects, and their held-out
    scoring (two forward passes over the fold left out, every epoch); its refit is counted at
    the search range, the most it trains."""

    def steps(n: int, epochs: int) -> int:
        return math.ceil(n / min(recipe.batch_size, n)) * epochs

    if check_protocol(protocol) != "validated":
        return steps(n_train, recipe.epochs)
    search = max(1, round(SELECTION_FACTOR * recipe.epochs))
    fold_windows = max(1, round(n_train * (SELECTION_FOLDS - 1) / SELECTION_FOLDS))
    scoring = 2 * FORWARD_SHARE * steps(max(1, n_train - fold_windows), search)
    return steps(n_train, search) + round(SELECTION_FOLDS * (steps(fold_windows, search) + scoring))


def study_work(
    runs: Mapping[str, int], n_train: int, epochs: int | None, protocol: str = "published"
) -> list[Work]:
    """The runs still to train of each trainable (not closed-form) architecture, and the
    steps of each run under ``protocol``."""
    work = []
    for arch, count in runs.items():
        if count == 0 or build_model(arch).closed_form:
            continue
        recipe = get_spec(arch).recipe.with_overrides(epochs=epochs)
        work.append(Work(arch, count, run_steps(recipe, n_train, protocol)))
    return work


def estimate(c: Candidate, work: Sequence[Work], seconds: StepTimer) -> float:
    """The study's training time under ``c``: solo, the runs' steps shared by the workers;
    batched, each worker trains one group of an architecture's repeats at a time."""
    total = 0.0
    for w in work:
        if c.batched:
            largest = max(group_sizes(w.runs, c.workers))
            total += w.steps_per_run * seconds(w.architecture, largest, True, c.threads)
        else:
            per_run = w.steps_per_run * seconds(w.architecture, 1, False, c.threads)
            total += per_run * math.ceil(w.runs / c.workers)
    return total


StepTimer = Callable[[str, int, bool, "int | None"], float]


def choose(cands: Sequence[Candidate], work: Sequence[Work], seconds: StepTimer) -> Plan:
    """The candidate with the shortest estimated study time (ties: the first listed)."""
    times = {c: estimate(c, work, seconds) for c in cands}
    best = min(cands, key=lambda c: times[c])
    return Plan(best, times)


def measured_plan(
    runs: Mapping[str, int],
    epochs: int | None,
    x: np.ndarray,
    y: np.ndarray,
    *,
    device: str,
    cores: int,
    workers: int | None,
    batching: str,
    batchable: bool = True,
    protocol: str = "published",
) -> Plan:
    """Measure every candidate's steps on ``x, y`` for ``runs`` (architecture -> runs still to
    train) and choose (see the module docstring).
    ``batching``: ``auto`` measures solo and batched, ``solo``/``batched`` fix the mode
    (batched only where the study has batchable runs: ``batchable``, its protocol allows it,
    and an architecture not fitted in closed form with more than one repeat)."""
    gpu = resolve_device(device).type != "cpu"
    work = study_work(runs, len(x), epochs, protocol)
    batchable = batchable and any(w.runs > 1 for w in work)
    cands = [
        c
        for c in candidates(cores, gpu, batchable, workers)
        if batching == "auto" or c.batched == (batching == "batched" and batchable)
    ]
    cache: dict[tuple[str, int, bool, int | None], float] = {}

    def seconds(arch: str, reps: int, batched: bool, threads: int | None) -> float:
        key = (arch, reps, batched, threads)
        if key not in cache:
            cache[key] = step_seconds(
                arch, x, y, repeats=reps, batched=batched, threads=threads, device=device
            )
        return cache[key]

    if len(cands) == 1 or not work:
        return Plan(cands[0])
    return choose(cands, work, seconds)
