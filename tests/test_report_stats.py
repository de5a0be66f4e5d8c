"""Report statistics against hand computations, and the report's edge cases (no Prefect)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_contracts.dataset import ACTIVITIES, OFFICIAL_ARCHIVE_SHA256, OFFICIAL_SUBJECTS
from har_models.protocol import DESCRIPTIONS
from har_models.results import RunRecord, read_metrics, records_frame
from har_reports import stats
from har_reports.compare import compare_with_previous, pick_previous, regression_lines
from har_reports.content import build_report, runs_table
from har_reports.plots import CURVES, learning_curves_plot
from har_reports.published import PUBLISHED
from har_reports.render import render_html, render_markdown
from har_reports.sample import make_sample_study

T_975_DF2 = 4.302652729749464  # Student t quantile, 0.975, 2 degrees of freedom (tables)


def frame(accuracies: dict[str, list[float]]) -> pd.DataFrame:
    return records_frame(
        [
            RunRecord("s", f"{a}-r{i:02d}", a, i, i, "published", accuracy=acc, macro_f1=acc)
            for a, accs in accuracies.items()
            for i, acc in enumerate(accs)
        ]
    )


def test_describe_and_ci_match_hand_computation() -> None:
    d = stats.describe([90.0, 92.0, 94.0])
    assert (d["mean"], d["std"], d["median"], d["min"], d["max"]) == (92, 2, 92, 90, 94)
    half = T_975_DF2 * 2 / math.sqrt(3)  # 4.968
    assert d["ci_low"] == pytest.approx(92 - half) and d["ci_high"] == pytest.approx(92 + half)


def test_single_value_has_no_spread() -> None:
    d = stats.describe([91.0])
    assert d["mean"] == 91 and math.isnan(d["std"]) and math.isnan(d["ci_low"])


def test_holm_matches_hand_computation() -> None:
    # sorted 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_pairwise_welch_matches_hand_computation() -> None:
    table = stats.pairwise_tests(
        frame({"cnn_lstm": [0.90, 0.92, 0.94], "lstm": [0.88, 0.89, 0.90], "convlstm": [0.5, 0.52]})
    )
    assert len(table) == 3
    row = table[(table["better"] == "cnn_lstm") & (table["worse"] == "lstm")].iloc[0]
    # Welch by hand: variances 4 and 1, n = 3 each.
    se2 = 4 / 3 + 1 / 3
    t = 3 / math.sqrt(se2)
    df = se2**2 / ((4 / 3) ** 2 / 2 + (1 / 3) ** 2 / 2)
    from scipy.stats import t as student_t

    p = 2 * student_t.sf(t, df)
    assert row["difference"] == pytest.approx(3.0)
    assert row["p_value"] == pytest.approx(p, rel=1e-6)
    assert row["p_holm"] == pytest.approx(stats.holm(table["p_value"])[row.name])
    assert row["statement"].startswith("CNN-LSTM vs LSTM: 3.0 points apart, not significant")


def test_runs_without_spread_get_no_t_test(recwarn: pytest.WarningsRecorder) -> None:
    # 0.1 + 0.2 != 0.3 in floats: identical accuracies up to rounding noise, no spread at all.
    table = stats.pairwise_tests(frame({"lstm": [0.3, 0.1 + 0.2], "cnn_lstm": [0.3, 0.3]}))
    assert table.loc[0, "p_value"] == 1.0 and not table.loc[0, "significant"]
    # One constant group: Welch still applies (all variance from the other group), quietly.
    table = stats.pairwise_tests(frame({"lstm": [0.3, 0.1 + 0.2], "cnn_lstm": [0.5, 0.52, 0.54]}))
    from scipy.stats import t as student_t

    t = (52 - 30) / math.sqrt(4 / 3)  # variance 4 over n = 3; the constant group adds none
    assert table.loc[0, "p_value"] == pytest.approx(2 * student_t.sf(t, 2), rel=1e-6)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_significant_difference_is_said_plainly() -> None:
    table = stats.pairwise_tests(
        frame({"lstm": [0.89, 0.895, 0.90, 0.892], "cnn_lstm": [0.95, 0.951, 0.949, 0.952]})
    )
    (statement,) = table["statement"]
    assert statement.startswith("CNN-LSTM beats LSTM by 5.6 points, p < 0.001")
    assert "Holm-corrected Welch t-test" in statement


def test_architectures_with_one_run_are_left_out_of_tests() -> None:
    assert stats.pairwise_tests(frame({"lstm": [0.9], "cnn_lstm": [0.91]})).empty


def test_confusion_statistics_match_hand_computation() -> None:
    eye = np.diag([10, 10, 10, 10, 10, 10])
    a, b = eye.copy(), eye.copy()
    a[3, 3], a[3, 4] = 6, 4  # SITTING → STANDING 4 times
    b[3, 3], b[3, 4] = 8, 2
    b[4, 4], b[4, 3] = 9, 1
    df = records_frame(
        [
            RunRecord(
                "s",
                f"lstm-r0{i}",
                "lstm",
                i,
                i,
                "published",
                confusion=cm.tolist(),
                per_class_f1=[1.0] * 6,
                accuracy=0.9,
            )
            for i, cm in enumerate((a, b))
        ]
    )
    pairs = stats.confused_pairs(df)
    assert list(pairs.iloc[0][["true", "predicted"]]) == ["SITTING", "STANDING"]
    assert pairs.iloc[0]["errors_per_run"] == pytest.approx(3.0)  # (4 + 2) / 2
    assert pairs.iloc[0]["share_of_true_pct"] == pytest.approx(30.0)
    assert pairs.iloc[1]["errors_per_run"] == pytest.approx(0.5)
    cm = stats.mean_normalized_confusion(df)["lstm"]
    assert cm[3, 4] == pytest.approx(0.3) and cm[4, 3] == pytest.approx(0.05)
    assert cm.sum(axis=1) == pytest.approx(np.ones(6))


def test_summary_of_a_written_study(tmp_path: Path) -> None:
    accs = {"lstm": [0.88, 0.90, 0.89], "cnn_lstm": [0.91, 0.905, 0.915, 0.92]}
    make_sample_study(tmp_path / "s1", accs, failed={"cnn_lstm": [3]})
    metrics = read_metrics(tmp_path / "s1")
    summary = stats.architecture_summary(metrics).set_index("architecture")
    assert summary.loc["cnn_lstm", ["runs", "completed", "failed"]].tolist() == [4, 3, 1]
    # The sample confusions round errors to whole windows (2947 test windows).
    assert summary.loc["lstm", "accuracy_mean"] == pytest.approx(89.0, abs=0.02)
    assert summary.loc["cnn_lstm", "accuracy_mean"] == pytest.approx(91.0, abs=0.02)
    assert summary.loc["lstm", "accuracy_std"] == pytest.approx(1.0, abs=0.02)
    f1 = stats.per_class_f1(metrics).set_index("architecture")
    assert list(f1.columns) == list(ACTIVITIES)
    assert f1.loc["lstm", "SITTING"] < f1.loc["lstm", "WALKING"]


def test_per_subject_table_and_hardest_subject(tmp_path: Path) -> None:
    accs = {"lstm": [0.88, 0.90, 0.89], "cnn_lstm": [0.91, 0.905, 0.915, 0.92]}
    make_sample_study(tmp_path / "s1", accs, failed={"cnn_lstm": [3]})
    metrics = read_metrics(tmp_path / "s1")
    table = stats.per_subject_accuracy(metrics).set_index("architecture")
    subjects = [f"subject_{k}" for k in OFFICIAL_SUBJECTS["test"]]
    assert list(table.columns) == ["runs", *subjects]
    assert table["runs"].to_dict() == {"lstm": 3, "cnn_lstm": 3}  # the failed run is left out
    # The sample gives every subject the same windows: their mean is the accuracy.
    summary = stats.architecture_summary(metrics).set_index("architecture")
    for arch in accs:
        assert table.loc[arch, subjects].mean() == pytest.approx(summary.loc[arch, "accuracy_mean"])
    assert stats.hardest_subject(table.reset_index())[0] == 10  # triple share of the errors
    content = build_report("s1", metrics, {}, None, "t")
    assert any(line.startswith("Hardest test subject: 10,") for line in content.headline)
    md, html = render_markdown(content), render_html(content)
    assert "## Per test subject" in md and "| S10 |" in md and 'id="per_subject_accuracy"' in html


def test_runs_without_per_subject_accuracy_get_a_note(tmp_path: Path) -> None:
    make_sample_study(tmp_path / "old", {"lstm": [0.9, 0.88]})
    metrics = read_metrics(tmp_path / "old").drop(columns=["test_subjects", "per_subject_accuracy"])
    assert stats.per_subject_accuracy(metrics).empty
    assert stats.per_subject_accuracy(frame({"lstm": [0.9]})).empty  # fields present, empty
    content = build_report("old", metrics, {}, None, "t")
    assert "per_subject_accuracy" not in content.tables
    assert any("No run recorded per-subject accuracy" in n for n in content.notes)
    assert "Per test subject" not in render_markdown(content)


def test_previous_study_regression_is_flagged() -> None:
    summary = stats.architecture_summary(
        frame({"lstm": [0.86, 0.87, 0.88], "cnn_lstm": [0.905, 0.91, 0.915]})
    )
    previous = {
        "study_id": "old",
        "architectures": [
            {"architecture": "lstm", "accuracy_mean": 90.0, "accuracy_std": 1.0},
            {"architecture": "cnn_lstm", "accuracy_mean": 91.3, "accuracy_std": 0.5},
        ],
    }
    table = compare_with_previous(summary, previous).set_index("architecture")
    assert table.loc["lstm", "change"] == pytest.approx(-3.0)
    assert bool(table.loc["lstm", "regression"]) and not bool(table.loc["cnn_lstm", "regression"])
    (line,) = regression_lines(table.reset_index(), "old")
    assert line.startswith("LSTM got worse than study old") and "-3.00 points" in line


def test_single_repeat_drop_is_flagged_without_spread() -> None:
    summary = stats.architecture_summary(frame({"lstm": [0.89]}))
    prev = {"study_id": "old", "architectures": [{"architecture": "lstm", "accuracy_mean": 89.5}]}
    row = compare_with_previous(summary, prev).iloc[0]
    assert row["regression"] and "no spread" in row["note"]


def test_pick_previous_takes_latest_other_study_on_same_data() -> None:
    c = [
        {"study_id": "a", "generated_at": "2026-01-01T00:00:00", "data_sha256": "x"},
        {"study_id": "b", "generated_at": "2026-01-03T00:00:00", "data_sha256": "y"},
        {"study_id": "c", "generated_at": "2026-01-02T00:00:00", "data_sha256": "x"},
        {"study_id": "me", "generated_at": "2026-01-04T00:00:00", "data_sha256": "x"},
    ]
    assert pick_previous(c, "me", "x")["study_id"] == "c"
    assert pick_previous(c[:1], "a", "x") is None


def test_single_architecture_single_repeat_renders(tmp_path: Path) -> None:
    make_sample_study(tmp_path / "one", {"lstm": [0.9]})
    metrics = read_metrics(tmp_path / "one")
    content = build_report("one", metrics, {}, None, "2026-01-01T00:00:00+00:00")
    assert content.tables["pairwise"].empty
    assert any("nothing to test it against" in n for n in content.notes)
    assert any("Fewer than two completed repeats for LSTM" in n for n in content.notes)
    assert set(content.figures) == {"accuracy", "confusion", "learning_curves", "per_class_f1"}
    html, md = render_html(content), render_markdown(content)
    assert "No pairwise test" in html and "No pairwise test" in md
    assert "90.0" in md  # the single run's accuracy, without a ± std


def test_all_runs_failed_still_renders(tmp_path: Path) -> None:
    make_sample_study(tmp_path / "bad", {"lstm": [0.9, 0.9]}, failed={"lstm": [0, 1]})
    content = build_report("bad", read_metrics(tmp_path / "bad"), {}, None, "t")
    assert content.figures == {} and "No run completed: no figures." in content.notes
    assert not any("Only one architecture completed" in n for n in content.notes)
    md = render_markdown(content)
    assert "lstm-r00: RuntimeError: boom" in md and "2 run(s) failed" in md
    assert "Only one architecture completed" not in md


def test_leaderboard_ranks_best_first_with_family_cost_and_published(tmp_path: Path) -> None:
    from har_reports.leaderboard import leaderboard
    from har_reports.render import leaderboard_view

    make_sample_study(
        tmp_path / "lb",
        {"lstm": [0.90, 0.92], "convlstm": [0.93, 0.94], "lstm128": [0.91]},
        failed={"lstm": [2]},
    )
    metrics = read_metrics(tmp_path / "lb")
    table = leaderboard(stats.architecture_summary(metrics))
    assert table["architecture"].tolist() == ["convlstm", "lstm128", "lstm"]
    assert table["rank"].tolist() == [1, 2, 3]
    assert table.loc[0, "accuracy_mean"] == pytest.approx(93.5, abs=0.05)
    assert set(table["family"]) == {"seed port"} and set(table["protocol"]) == {"published"}
    assert table.loc[2, "runs"] == 2  # the failed repeat is not counted
    assert table.loc[1, "published_mean"] == 90.19 and table.loc[1, "published_runs"] == 1
    view = leaderboard_view(table)
    assert view.loc[1, "Published %"] == "90.19 (1 run)"
    assert view.loc[0, "Published %"] == "90.80 ± 0.90 (10 runs)"
    content = build_report("lb", metrics, {}, None, "t")
    assert render_markdown(content).index("## Leaderboard") < render_markdown(content).index(
        "## Architectures"
    )


def test_two_repeats_get_no_confidence_interval(tmp_path: Path) -> None:
    """A t interval from two runs spans tens of points ("-49.85 to 135.28"): none is shown."""
    two, three = stats.describe([50.0, 90.0]), stats.describe([89.0, 90.0, 91.0])
    assert two["std"] == pytest.approx(28.28, abs=0.01) and math.isnan(two["ci_low"])
    assert three["ci_low"] == pytest.approx(90 - T_975_DF2 / math.sqrt(3))
    make_sample_study(tmp_path / "two", {"lstm": [0.5, 0.9]})
    content = build_report("two", read_metrics(tmp_path / "two"), {}, None, "t")
    assert any("Two completed repeats for LSTM: no confidence interval" in n for n in content.notes)
    assert "— (n < 3)" in render_markdown(content)


ACCS = {"lstm": [0.42, 0.45, 0.40], "cnn_lstm": [0.5, 0.6, 0.55]}


def _study(tmp_path: Path, profile: str, **options: object) -> pd.DataFrame:
    make_sample_study(tmp_path / "s", ACCS, data_profile=profile, **options)  # type: ignore[arg-type]
    return read_metrics(tmp_path / "s")


def test_custom_data_is_not_set_against_the_published_figures(tmp_path: Path) -> None:
    """A 2-subject custom archive was reported "-47.98 points" from the paper's figures."""
    content = build_report("s", _study(tmp_path, "custom"), {}, None, "t")
    assert "published" not in content.tables
    assert any("is not the official UCI HAR data" in n for n in content.notes)
    assert content.tables["leaderboard"]["published_mean"].isna().all()
    md = render_markdown(content)
    assert "PUBLISHED" not in md and "Ours - published" not in md


@pytest.mark.parametrize(
    ("profile", "sha", "official"),
    [
        ("official", "1" * 64, True),
        ("", next(iter(OFFICIAL_ARCHIVE_SHA256)), True),  # recorded before profiles were
        ("", "1" * 64, False),
    ],
)
def test_official_data_is_set_against_the_published_figures(
    tmp_path: Path, profile: str, sha: str, official: bool
) -> None:
    metrics = _study(tmp_path, profile, data_sha256=sha)
    content = build_report("s", metrics, {}, None, "t")
    assert stats.official_data(metrics) == official
    assert ("published" in content.tables) == official
    if official:
        published = content.tables["published"].set_index("architecture")
        lstm = published.loc["lstm"]
        assert lstm["difference"] == pytest.approx(lstm["ours_mean"] - 89.7)


def test_validation_on_fewer_than_three_subjects_is_a_warning(tmp_path: Path) -> None:
    few = _study(tmp_path / "few", "custom", protocol="validated", validation_subjects=(3,))
    content = build_report("s", few, {}, None, "t")
    assert len(content.data_warnings) == 1
    assert content.data_warnings[0].startswith("Validation rests on fewer than 3 subjects: 6 run")
    assert "subject(s) 3" in content.data_warnings[0]
    md = render_markdown(content).splitlines()
    assert md[2].startswith("- **WARNING: Validation rests on fewer than 3 subjects")
    enough = _study(tmp_path / "ok", "custom", protocol="validated", validation_subjects=(3, 5, 7))
    content = build_report("s", enough, {}, None, "t")
    assert content.data_warnings == []
    # the notes say what the protocol did, in the protocol's own words
    (note,) = [n for n in content.notes if n.startswith("This study used the validated")]
    assert f"validated: {DESCRIPTIONS['validated']});" in note
    # a study trained before the refit kept averaged weights is not described as if it had
    older = enough.drop(columns="averaged_epochs")
    (note,) = [n for n in build_report("s", older, {}, None, "t").notes if "validated" in n]
    assert "not these runs: trained before that" in note
    assert (runs_table(older)["averaged_epochs"] == 1).all()
    assert (runs_table(enough)["averaged_epochs"] > 1).all()


def test_targets_per_protocol_come_from_the_published_figures() -> None:
    """The agreed targets (issue 13): published mean - std for the Keras ports, the notebook's
    explicit reproduction targets, and published mean - 0.3 for an honest `validated` study
    (none against a single published run)."""
    assert PUBLISHED["cnn_lstm"].target("published") == pytest.approx(89.6)
    assert PUBLISHED["cnn_lstm"].target("validated") == pytest.approx(90.4)
    assert PUBLISHED["lstm"].target("validated") == pytest.approx(89.4)
    assert PUBLISHED["lstm128_64"].target("published") == pytest.approx(90.7)
    assert PUBLISHED["lstm128"].target("published") == pytest.approx(90.2)
    assert PUBLISHED["stacked_lstm"].target("validated") is None


def test_learning_curves_average_a_runs_folds_before_the_runs() -> None:
    """A validated run's three fold curves make one curve: the band is over runs."""
    from har_reports.stats import learning_curves

    metrics = pd.DataFrame(
        {"run_id": ["a-r00", "a-r01"], "architecture": ["a", "a"], "status": ["completed"] * 2}
    )

    def history(accs: list[float], fold: int) -> pd.DataFrame:
        averaged = [a + 0.1 for a in accs]  # the mean of the last epochs' weights
        return pd.DataFrame(
            {"epoch": [1, 2], "val_accuracy": accs, "averaged_val_accuracy": averaged,
             "phase": "select", "fold": fold}
        )  # fmt: skip

    histories = {
        "a-r00": pd.concat([history([0.5, 0.7], 1), history([0.7, 0.9], 2)], ignore_index=True),
        "a-r01": history([0.8, 0.6], 1),
    }
    curves = learning_curves(metrics, histories).set_index("epoch")
    assert curves["runs"].tolist() == [2, 2]
    assert curves["val_accuracy_mean"].tolist() == pytest.approx(
        [0.7, 0.7]
    )  # (0.6+0.8)/2, (0.8+0.6)/2
    assert "fold_mean" not in curves
    # the curve validated chooses on is averaged the same way, and the plot draws it
    assert curves["averaged_val_accuracy_mean"].tolist() == pytest.approx([0.8, 0.8])
    assert any(prefix == "averaged_val" for prefix, _, _ in CURVES)
    png = learning_curves_plot(curves.reset_index(), {"a": (0.1, 0.2, 0.3)})
    assert png.startswith(b"\x89PNG")
