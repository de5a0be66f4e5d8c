"""Render a :class:`ReportContent` as Markdown and as one self-contained HTML page.

The HTML embeds its figures as base64 PNGs and carries its own CSS, so the single file opens
offline in any browser; Markdown links the PNGs saved beside it (or leaves them out, for the
Prefect artifact).
"""

from __future__ import annotations

import base64
import html
import math

import pandas as pd

from har_reports.content import FIGURES, ReportContent
from har_reports.published import display_name
from har_reports.stats import MIN_CI_RUNS


def _f(x: object, digits: int = 2, suffix: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, int | float):
        return f"{x:,.{digits}f}{suffix}"
    return str(x)


def _pm(mean: object, std: object) -> str:
    if _f(std) == "—":
        return _f(mean)
    return f"{_f(mean)} ± {_f(std)}"


def leaderboard_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "#": t["rank"],
            "Model": t["name"],
            "Family": t["family"],
            "Protocol": t["protocol"],
            "Runs": t["runs"],
            "Accuracy % (mean ± std)": [
                _pm(r.accuracy_mean, r.accuracy_std) for r in t.itertuples()
            ],
            "Macro-F1 % (mean ± std)": [
                _pm(r.macro_f1_mean, r.macro_f1_std) for r in t.itertuples()
            ],
            "Params": t["n_params"].map(lambda x: _f(x, 0)),
            "Train s / run": t["train_seconds_per_run"].map(lambda x: _f(x, 1)),
            "Latency ms / window": t["latency_ms_batch1"].map(lambda x: _f(x, 3)),
            "Published %": [
                "—"
                if pd.isna(r.published_mean)
                else _pm(r.published_mean, r.published_std)
                + (" (1 run)" if r.published_runs == 1 else f" ({int(r.published_runs)} runs)")
                for r in t.itertuples()
            ],
        }
    )


def architectures_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Architecture": t["name"],
            "Runs (done / failed)": [f"{r.completed} / {r.failed}" for r in t.itertuples()],
            "Accuracy % (mean ± std)": [
                _pm(r.accuracy_mean, r.accuracy_std) for r in t.itertuples()
            ],
            "Median %": t["accuracy_median"].map(_f),
            "Min to max %": [
                f"{_f(r.accuracy_min)} to {_f(r.accuracy_max)}" for r in t.itertuples()
            ],
            "95 % CI %": [
                f"{_f(r.accuracy_ci_low)} to {_f(r.accuracy_ci_high)}"
                if _f(r.accuracy_ci_low) != "—"
                else f"— (n < {MIN_CI_RUNS})"
                for r in t.itertuples()
            ],
            "Macro-F1 % (mean ± std)": [
                _pm(r.macro_f1_mean, r.macro_f1_std) for r in t.itertuples()
            ],
            "Params": t["n_params"].map(lambda x: _f(x, 0)),
            "Train s / run": t["train_seconds_per_run"].map(lambda x: _f(x, 1)),
            "Train s / epoch": t["train_seconds_per_epoch"].map(lambda x: _f(x, 2)),
            "Latency ms / window (batch 1 / 256)": [
                f"{_f(r.latency_ms_batch1, 3)} / {_f(r.latency_ms_batch256, 4)}"
                for r in t.itertuples()
            ],
            "Device": t["device"].map(_f),
        }
    )


def published_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Architecture": t["architecture"].map(display_name),
            "Ours: accuracy %": [_pm(r.ours_mean, r.ours_std) for r in t.itertuples()],
            "Ours: runs, protocol": [f"{r.ours_runs}, {r.ours_protocol}" for r in t.itertuples()],
            "PUBLISHED: accuracy %": [
                _pm(r.published_mean, r.published_std) for r in t.itertuples()
            ],
            "PUBLISHED: runs, protocol": [
                f"{_f(r.published_runs, 0)}, {r.published_protocol}" for r in t.itertuples()
            ],
            "Ours - published (points)": t["difference"].map(lambda x: _f(x, 2)),
            "Published source": t["published_source"].map(_f),
        }
    )


def pairwise_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Better": t["better"].map(display_name),
            "Worse": t["worse"].map(display_name),
            "Difference (points)": t["difference"].map(_f),
            "p (raw)": t["p_value"].map(lambda x: f"{x:.3g}"),
            "p (Holm)": t["p_holm"].map(lambda x: f"{x:.3g}"),
            "Significant at 0.05": t["significant"].map({True: "yes", False: "no"}),
            "Test": t["test"],
        }
    )


def confused_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Architecture": t["architecture"].map(display_name),
            "Rank": t["rank"],
            "True activity": t["true"],
            "Predicted as": t["predicted"],
            "Errors per run": t["errors_per_run"].map(lambda x: _f(x, 1)),
            "% of true class": t["share_of_true_pct"].map(lambda x: _f(x, 1)),
        }
    )


def provenance_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Architecture": t["architecture"].map(display_name),
            "Recipe": t["recipe"],
            "Overrides": t["overrides"],
            "Code": t["code_version"],
            "Torch": t["torch_version"],
            "Device": t["device"],
            "Hardware": t["hardware"],
            "Runs": t["runs"],
            "Training time (sum)": t["training_seconds"].map(lambda x: _f(x / 60, 1, " min")),
        }
    )


def per_class_view(t: pd.DataFrame) -> pd.DataFrame:
    view = t.copy()
    view["architecture"] = view["architecture"].map(display_name)
    for col in view.columns[1:]:
        view[col] = view[col].map(lambda x: _f(x, 1))
    return view.rename(columns={"architecture": "Architecture (F1 %)"})


def per_subject_view(t: pd.DataFrame) -> pd.DataFrame:
    view = t.copy()
    view["architecture"] = view["architecture"].map(display_name)
    subjects = [c for c in view.columns if c.startswith("subject_")]
    for col in subjects:
        view[col] = view[col].map(lambda x: _f(x, 1))
    names = {c: c.replace("subject_", "S") for c in subjects}
    return view.rename(
        columns={"architecture": "Architecture (accuracy %)", "runs": "Runs", **names}
    )


def previous_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Architecture": t["architecture"].map(display_name),
            "Now %": [_pm(r.accuracy_mean, r.accuracy_std) for r in t.itertuples()],
            "Before %": [_pm(r.previous_mean, r.previous_std) for r in t.itertuples()],
            "Change (points)": t["change"]
            .map(lambda x: _f(x, 2))
            .str.replace(r"^(\d)", r"+\1", regex=True),
            "Regression": t["regression"].map({True: "YES", False: "no"}),
            "Note": t["note"],
        }
    )


def runs_view(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Run": t["run_id"],
            "Status": t["status"],
            "Seed": t["seed"],
            "Accuracy %": t["accuracy"].map(_f),
            "Macro-F1 %": t["macro_f1"].map(_f),
            "Epochs": t["epochs"],
            "Wall time s": t["wall_time_s"].map(lambda x: _f(x, 1)),
            "Device": t["device"],
            "Checkpoint": t["checkpoint"].fillna("") if "checkpoint" in t else "",
            "Error": t["error"].fillna("").map(lambda e: e.splitlines()[-1][:200] if e else ""),
        }
    )


# (section title, table name, view, sentence before the table)
SECTIONS = [
    ("Leaderboard", "leaderboard", leaderboard_view,
     "Every model of the study, best mean test accuracy first; the protocol says how each "
     "figure was obtained. A published figure from a single run is one draw from a spread like "
     "the one our repeats show."),
    ("Architectures", "architectures", architectures_view,
     "Test accuracy and macro-F1 over the completed repeats; the CI is t-based."),
    ("Published figures beside ours", "published", published_view,
     "Rows marked PUBLISHED are figures from the original Keras/TensorFlow code, not our runs."),
    ("Are the differences real?", "pairwise", pairwise_view,
     "Pairwise Welch t-tests on repeat accuracies, Holm-corrected for multiple comparisons."),
    ("Where the models fail", "confused_pairs", confused_view,
     "Each architecture's most frequent confusions (true → predicted), mean count per run."),
    ("Per-class F1", "per_class_f1", per_class_view, "Mean over completed repeats, percent."),
    ("Per test subject", "per_subject_accuracy", per_subject_view,
     "Mean test accuracy of each test subject (S = subject id) over completed repeats, percent; "
     "the split is by person, so a low column is someone the models do not generalise to."),
    ("Since the previous study", "previous", previous_view,
     "Change in mean accuracy; a drop larger than the spread of the repeats is a regression."),
    ("What was trained, with what", "provenance", provenance_view,
     "Recipe and overrides of each architecture, code and torch versions, device, hardware."),
    ("Runs", "runs", runs_view,
     "Every run of the study, failed ones included; checkpoints relative to the data home."),
]  # fmt: skip


def _md_table(df: pd.DataFrame) -> str:
    def cell(x: object) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |"]
    lines.append("|" + "---|" * len(df.columns))
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _lead(c: ReportContent) -> list[str]:
    """The first lines: regressions first, then the headline and the notes."""
    return [f"WARNING: {w}" for w in c.warnings + c.data_warnings] + c.headline


def _failed_lines(c: ReportContent) -> list[str]:
    runs = c.tables["runs"]
    bad = runs[runs["status"] != "completed"]
    return [
        f"{r.run_id}: {(r.error or 'no error recorded').splitlines()[-1][:300]}"
        for r in bad.itertuples()
    ]


def _statements(c: ReportContent) -> list[str]:
    return list(c.tables["pairwise"]["statement"])


def render_markdown(c: ReportContent, figure_paths: dict[str, str] | None = None) -> str:
    """Markdown report; figures are linked from ``figure_paths`` (name → relative path) if given."""
    out = [f"# HAR study report: {c.study_id}", ""]
    out += [f"- **{line}**" if line.startswith("WARNING") else f"- {line}" for line in _lead(c)]
    out += ["", f"Generated {c.generated_at}; data sha256 `{c.data_sha256 or 'unknown'}`.", ""]
    out += [f"> {n}" for n in c.notes] + ([""] if c.notes else [])
    for title, name, view, sentence in SECTIONS:
        if name not in c.tables:
            continue
        out += [f"## {title}", "", sentence, ""]
        if name == "pairwise":
            out += [f"- {s}" for s in _statements(c)] or ["- No pairwise test (see notes)."]
            out.append("")
        if name == "runs" and _failed_lines(c):
            out += ["Failed runs:", ""] + [f"- {line}" for line in _failed_lines(c)] + [""]
        if len(c.tables[name]):
            out += [_md_table(view(c.tables[name])), ""]
        if name == "pairwise" and figure_paths:
            for fig, caption in FIGURES.items():
                if fig in figure_paths:
                    out += [f"![{caption}]({figure_paths[fig]})", "", f"*{caption}*", ""]
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.warning{background:#fde8e8;border-left:6px solid #c0392b;
padding:.6em 1em;font-weight:bold;color:#8e1b10}.note{color:#555;font-style:italic}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:.9em}.published th{background:#fff3cd}
"""


def _html_table(df: pd.DataFrame, css_class: str = "") -> str:
    return df.to_html(index=False, escape=True, border=0, classes=css_class or None, na_rep="—")


def render_html(c: ReportContent) -> str:
    """One self-contained page: CSS inline, figures as base64 data URIs."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>HAR study report: {e(c.study_id)}</title><style>{_CSS}</style></head><body>",
        f"<h1>HAR study report: {e(c.study_id)}</h1>",
    ]
    out += [f'<p class="warning">WARNING: {e(w)}</p>' for w in c.warnings + c.data_warnings]
    out.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in c.headline) + "</ul>")
    out.append(
        f"<p>Generated {e(c.generated_at)}; data sha256 <code>{e(c.data_sha256 or 'unknown')}"
        "</code>.</p>"
    )
    out += [f'<p class="note">{e(n)}</p>' for n in c.notes]
    for title, name, view, sentence in SECTIONS:
        if name not in c.tables:
            continue
        out.append(f'<section id="{name}"><h2>{e(title)}</h2><p>{e(sentence)}</p>')
        if name == "pairwise":
            statements = _statements(c) or ["No pairwise test (see notes above)."]
            out.append("<ul>" + "".join(f"<li>{e(s)}</li>" for s in statements) + "</ul>")
        if name == "runs" and _failed_lines(c):
            out.append("<p><strong>Failed runs:</strong></p><ul>")
            out += [f"<li>{e(line)}</li>" for line in _failed_lines(c)]
            out.append("</ul>")
        if len(c.tables[name]):
            out.append(
                _html_table(view(c.tables[name]), "published" if name == "published" else "")
            )
        out.append("</section>")
        if name == "pairwise":
            out.append('<section id="figures"><h2>Figures</h2>')
            for fig, caption in FIGURES.items():
                if fig in c.figures:
                    data = base64.b64encode(c.figures[fig]).decode("ascii")
                    out.append(
                        f'<figure id="fig-{fig}"><img alt="{e(caption)}" '
                        f'src="data:image/png;base64,{data}"><figcaption>{e(caption)}'
                        "</figcaption></figure>"
                    )
            out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
