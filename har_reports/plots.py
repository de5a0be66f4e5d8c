"""The report's figures, as PNG bytes.

Figures are built with matplotlib's object API (``Figure``, rendered by the Agg canvas), not
pyplot: no display, no global figure registry, safe in the threads Prefect runs tasks in.

Every figure colors an architecture the same way (:func:`architecture_colors`), and wraps the
long activity names so tick labels never overlap.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from data_contracts.dataset import ACTIVITIES
from har_reports.published import DISPLAY_NAMES, PUBLISHED, display_name
from har_reports.stats import completed

# tab10's ten colors as RGB tuples (read through the colormap: ``Colormap`` has no ``colors``)
_PALETTE: list[tuple[float, float, float]] = [
    (float(r), float(g), float(b)) for r, g, b, _ in colormaps["tab10"](np.arange(10))
]
DPI = 100


def architecture_colors(archs: list[str]) -> dict[str, tuple[float, float, float]]:
    """Known architectures keep a fixed color across studies; others take the next free ones."""
    fixed = {a: _PALETTE[i] for i, a in enumerate(DISPLAY_NAMES)}
    spare = iter(_PALETTE[len(fixed) :])
    return {a: fixed[a] if a in fixed else next(spare, (0.3, 0.3, 0.3)) for a in archs}


def activity_label(activity: str) -> str:
    """WALKING_DOWNSTAIRS → 'Walking\\ndownstairs': short lines that fit under a tick."""
    return activity.replace("_", "\n").capitalize()


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def accuracy_plot(metrics: pd.DataFrame, colors: dict[str, tuple], published: bool = True) -> bytes:
    """Box and strip plot of the repeat accuracies, with the published mean ± std beside each
    (only where ``published``: the study ran on the official data)."""
    done = completed(metrics)
    archs = list(colors)
    fig = Figure(figsize=(max(5.0, 1.9 * len(archs) + 2), 4.6))
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # fixed jitter: the same study draws the same figure
    shown_published = False
    for i, arch in enumerate(archs):
        acc = 100 * done.loc[done["architecture"] == arch, "accuracy"].to_numpy(float)
        color = colors[arch]
        if acc.size >= 2:
            ax.boxplot(
                acc, positions=[i], widths=0.5, showfliers=False, patch_artist=True,
                boxprops=dict(facecolor=(*color, 0.25), edgecolor=color),
                medianprops=dict(color=color, linewidth=2),
                whiskerprops=dict(color=color), capprops=dict(color=color),
            )  # fmt: skip
        elif acc.size == 1:
            ax.hlines(acc[0], i - 0.25, i + 0.25, color=color, linewidth=2)
        if acc.size:
            jitter = rng.uniform(-0.12, 0.12, acc.size)
            ax.scatter(i + jitter, acc, color=color, edgecolor="white", s=36, zorder=3)
        pub = PUBLISHED.get(arch) if published else None
        if pub is not None:
            ax.errorbar(
                i + 0.38, pub.mean, yerr=pub.std or 0, fmt="D", color="black", markersize=6,
                capsize=4, label=None if shown_published else "published mean ± std",
            )  # fmt: skip
            shown_published = True
    ax.set_xticks(range(len(archs)), [display_name(a) for a in archs])
    ax.set_xlim(-0.6, len(archs) - 0.4)
    ax.set_ylabel("Test accuracy (%)")
    ax.set_xlabel("Architecture")
    ax.set_title("Test accuracy of each repeat (box: quartiles, dots: runs)")
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.12)
    if shown_published:
        ax.legend(loc="best", fontsize=9)
    return _png(fig)


def confusion_plot(matrices: dict[str, np.ndarray], colors: dict[str, tuple]) -> bytes:
    """Row-normalized confusion matrix per architecture (mean over repeats), in percent."""
    archs = [a for a in colors if a in matrices]
    cols = min(2, len(archs))
    rows = math.ceil(len(archs) / cols)
    fig = Figure(figsize=(6.4 * cols, 5.6 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    labels = [activity_label(a) for a in ACTIVITIES]
    image = None
    for ax, arch in zip(axes.flat, archs, strict=False):
        cm = 100 * matrices[arch]
        image = ax.imshow(cm, cmap="Blues", vmin=0, vmax=100)
        for (i, j), v in np.ndenumerate(cm):
            if v >= 0.05:
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=8,
                        color="white" if v > 60 else "black")  # fmt: skip
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("Predicted activity")
        ax.set_ylabel("True activity")
        ax.set_title(display_name(arch), color=colors[arch], fontweight="bold")
    for ax in list(axes.flat)[len(archs) :]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="% of true class")
    fig.suptitle("Normalized confusion matrices (mean over repeats, % of each true class)")
    return _png(fig)


# (history column prefix, line style, legend) of the learning-curve plot; the ``validated``
# protocol chooses its epoch on the dotted one (held-out accuracy of the averaged weights)
CURVES = (
    ("train", "-", "train"),
    ("val", "--", "validation"),
    ("averaged_val", ":", "validation, mean of the last epochs' weights"),
)


def learning_curves_plot(curves: pd.DataFrame, colors: dict[str, tuple]) -> bytes:
    """Loss and accuracy per epoch: mean over repeats with a ±1 std band; validation dashed,
    and dotted for the mean of the last epochs' weights (``validated`` selection)."""
    fig = Figure(figsize=(12, 4.6))
    ax_loss, ax_acc = fig.subplots(1, 2)
    panels = ((ax_loss, "loss", 1.0, "Cross-entropy loss"), (ax_acc, "accuracy", 100.0, "Acc (%)"))
    for ax, metric, scale, ylabel in panels:
        for arch in colors:
            c = curves[curves["architecture"] == arch].sort_values("epoch")
            for split, style, what in CURVES:
                col = f"{split}_{metric}_mean"
                if col not in c or c[col].isna().all():
                    continue
                mean = scale * c[col].to_numpy(float)
                std = scale * c[f"{split}_{metric}_std"].fillna(0).to_numpy(float)
                label = f"{display_name(arch)} ({what})"
                marker = "o" if len(c) <= 3 else None  # a single epoch is a point, not a line
                ax.plot(c["epoch"], mean, style, color=colors[arch], label=label, marker=marker)
                ax.fill_between(c["epoch"], mean - std, mean + std, color=colors[arch], alpha=0.15)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(ylabel.replace("Acc", "Accuracy"))
        ax.set_title(f"{'Loss' if metric == 'loss' else 'Accuracy'} per epoch (mean ± std)")
        ax.grid(alpha=0.3)
        last = int(curves["epoch"].max()) if len(curves) else 1
        if last <= 10:  # few epochs: one tick each, a lone epoch centred
            ax.set_xticks(range(1, last + 1))
            ax.set_xlim(0.5, last + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax_loss.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=9,
                   bbox_to_anchor=(0.5, -0.02 - 0.05 * math.ceil(len(labels) / 4)))  # fmt: skip
    return _png(fig)


def per_class_f1_plot(table: pd.DataFrame, colors: dict[str, tuple]) -> bytes:
    """Grouped bars: mean F1 of each activity, one bar per architecture."""
    archs = [a for a in colors if a in set(table["architecture"])]
    fig = Figure(figsize=(11, 4.6))
    ax = fig.subplots()
    width = 0.8 / max(1, len(archs))
    x = np.arange(len(ACTIVITIES))
    low = 100.0
    for k, arch in enumerate(archs):
        values = table.loc[table["architecture"] == arch, list(ACTIVITIES)].to_numpy(float)[0]
        low = min(low, float(np.nanmin(values)))
        ax.bar(x - 0.4 + width * (k + 0.5), values, width, color=colors[arch],
               label=display_name(arch))  # fmt: skip
    ax.set_xticks(x, [activity_label(a) for a in ACTIVITIES])
    ax.set_ylim(max(0.0, math.floor(low / 10) * 10 - 5), 100)
    ax.set_ylabel("F1 (%)")
    ax.set_xlabel("Activity")
    ax.set_title("Per-class F1 by architecture (mean over repeats)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9, title="Architecture")
    return _png(fig)
