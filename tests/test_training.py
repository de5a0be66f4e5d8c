"""fit / evaluate: determinism, metrics against scikit-learn, the two protocols, settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from flows.params import TrainSettings, artifact_key
from har_models.averaging import TrailingMean, TrailingMeanScores
from har_models.checkpoint import load_checkpoint
from har_models.data import Split, read_split, subject_folds, subject_split, validation_subjects
from har_models.metrics import score
from har_models.protocol import AVERAGED_EPOCHS, SELECTION_FOLDS, SELECTION_RULE
from har_models.registry import ARCHITECTURES, get_spec
from har_models.results import HISTORY_COLUMNS, RECORD_FIELDS, load_records
from har_models.run import RunParams, fit_validated, resolve_training_data, train_one_run
from har_models.selection import Choice, choose, select_epoch
from har_models.training import EpochReport, chain_callbacks, epoch_batches, evaluate, fit
from tests.synthetic_tensors import SYNTHETIC_SHA256, write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Split, Split]:
    home = write_synthetic_tensors(tmp_path_factory.mktemp("home"), n_per_class_subject=3)
    return read_split(home.split_path("train")), read_split(home.split_path("test"))


def quick(name: str, **changes: object):
    return get_spec(name).recipe.with_overrides(**{"epochs": 2, "batch_size": 24, **changes})


def test_same_seed_same_metrics_on_cpu(splits: tuple[Split, Split]) -> None:
    train, test = splits
    runs = [
        fit("convlstm", train.x, train.y, seed=7, recipe=quick("convlstm"), device="cpu")
        for _ in range(2)
    ]
    other = fit("convlstm", train.x, train.y, seed=8, recipe=quick("convlstm"), device="cpu")
    cols = ["train_loss", "train_accuracy"]
    pd.testing.assert_frame_equal(runs[0].history[cols], runs[1].history[cols])
    assert evaluate(runs[0].model, test.x, test.y) == evaluate(runs[1].model, test.x, test.y)
    assert not runs[0].history[cols].equals(other.history[cols])


def test_in_order_batches_follow_the_tf_original() -> None:
    """``shuffle=False`` replays the original's ``extract_batch_size``: batch ``step`` holds
    windows ``((step - 1) * bs + i) % n``, and 300 epochs of 7352 windows are 1470 steps."""
    n, bs, gen, cpu = 10, 4, torch.Generator(), torch.device("cpu")
    got = [b.tolist() for e in range(1, 5) for b in epoch_batches(n, bs, e, False, gen, cpu)]
    want = [[((step - 1) * bs + i) % n for i in range(bs)] for step in range(1, 11)]
    assert got == want  # 4 epochs of 10 windows = floor(40 / 4) steps
    assert sum(len(epoch_batches(7352, 1500, e, False, gen, cpu)) for e in range(1, 301)) == 1470
    assert [b.tolist() for b in epoch_batches(3, 8, 1, False, gen, cpu)] == [[0, 1, 2]]
    shuffled = epoch_batches(n, bs, 1, True, gen, cpu)
    assert [len(b) for b in shuffled] == [4, 4, 2]
    assert sorted(torch.cat(shuffled).tolist()) == list(range(n))


def test_in_order_training_is_seeded_and_differs_from_shuffled(
    splits: tuple[Split, Split],
) -> None:
    train, _ = splits
    recipe = quick("lstm", shuffle=False)
    runs = [fit("lstm", train.x, train.y, seed=3, recipe=recipe, device="cpu") for _ in range(2)]
    pd.testing.assert_frame_equal(
        runs[0].history, runs[1].history.assign(seconds=runs[0].history.seconds)
    )
    assert runs[0].epochs == 2 and runs[0].history["train_loss"].notna().all()
    shuffled = fit("lstm", train.x, train.y, seed=3, recipe=quick("lstm"), device="cpu")
    assert not shuffled.history["train_loss"].equals(runs[0].history["train_loss"])


def test_scores_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 6, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 5, 200))  # class 5 rarer
    s = score(y_true, y_pred)
    assert s.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert s.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert s.weighted_f1 == pytest.approx(f1_score(y_true, y_pred, average="weighted"))
    assert s.per_class_f1 == pytest.approx(list(f1_score(y_true, y_pred, average=None)))
    assert s.confusion == confusion_matrix(y_true, y_pred).tolist()
    assert s.accuracy == pytest.approx(np.trace(s.confusion) / 200)


def test_per_subject_accuracy_agrees_with_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    subjects = rng.choice([2, 4, 9, 10], 300)
    y_true = rng.integers(0, 6, 300)
    y_pred = np.where((subjects == 10) | (rng.random(300) < 0.1), (y_true + 1) % 6, y_true)
    s = score(y_true, y_pred, subjects)
    assert s.subjects == [2, 4, 9, 10]
    expected = [accuracy_score(y_true[subjects == k], y_pred[subjects == k]) for k in s.subjects]
    assert s.per_subject_accuracy == pytest.approx(expected)
    assert s.per_subject_accuracy[3] == 0.0 and min(s.per_subject_accuracy[:3]) > 0.8
    counts = np.array([np.sum(subjects == k) for k in s.subjects])
    assert np.dot(s.per_subject_accuracy, counts) / 300 == pytest.approx(s.accuracy)
    assert score(y_true, y_pred).per_subject_accuracy == []
    with pytest.raises(ValueError, match="subjects: 299 entries for 300 labels"):
        score(y_true, y_pred, subjects[:-1])


def test_scores_always_cover_six_classes() -> None:
    s = score(np.array([0, 0, 1]), np.array([0, 1, 1]))
    assert len(s.per_class_recall) == 6 and np.asarray(s.confusion).shape == (6, 6)


def test_validation_holds_out_whole_training_subjects(splits: tuple[Split, Split]) -> None:
    train, _ = splits
    fit_set, val_set = subject_split(train, seed=3)
    assert set(np.unique(fit_set.subject)).isdisjoint(np.unique(val_set.subject))
    assert len(fit_set) + len(val_set) == len(train)
    assert list(validation_subjects(train.subject, 3)) == list(np.unique(val_set.subject))
    many = np.repeat(np.arange(1, 22), 3)  # 21 subjects, like the real train split
    assert len(validation_subjects(many, 0)) == 4


def test_validated_protocol_chooses_epochs_on_held_out_subjects_then_refits(
    splits: tuple[Split, Split],
) -> None:
    """The epoch count comes from the held-out subjects' history by the protocol's rule; the
    scored model is a refit on every training subject for that many epochs (same seed), so
    it equals a plain fit of that length."""
    train, _ = splits
    recipe = quick("lstm", epochs=4, lr=2e-2)
    params = RunParams(
        study_id="v", architecture="lstm", repeat=0, seed=0, protocol="validated",
        data_home="/unused", data_sha256="", device="cpu",
    )  # fmt: skip
    refit, history = fit_validated(params, recipe, train)
    select = history[history.phase == "select"]
    folds = subject_folds(train.subject, 0, SELECTION_FOLDS)
    # every fold's run goes all 4 epochs (no early stop), so the curves can be averaged
    assert len(select) == 4 * len(folds) and select["val_loss"].notna().all()
    assert sorted(select.fold.unique()) == list(range(1, len(folds) + 1))
    for k, held_out in enumerate(folds, 1):  # each fold scored on its own held-out windows
        val = train.subset(np.isin(train.subject, held_out))
        fold_fit = fit(
            "lstm", train.x[~np.isin(train.subject, held_out)],
            train.y[~np.isin(train.subject, held_out)], seed=0, recipe=recipe,
            x_val=val.x, y_val=val.y,
        )  # fmt: skip
        assert np.allclose(
            fold_fit.history.val_accuracy, select[select.fold == k].val_accuracy, atol=1e-9
        )
    mean = select.groupby("epoch")[["val_loss", "val_accuracy", "averaged_val_accuracy"]].mean()
    choice = choose(mean, SELECTION_RULE, AVERAGED_EPOCHS)
    assert choice.epochs >= 2  # so the mean below is over more than one epoch
    assert refit.best_epoch == choice.epochs == refit.epochs == (history.phase == "refit").sum()
    assert refit.averaged_epochs == min(choice.averaged_epochs, choice.epochs)
    assert (history[history.phase == "refit"].fold == 0).all()
    # the refit is a plain fit of that length, its last epochs' weights averaged if chosen
    kept = TrailingMean(choice.averaged_epochs)
    plain = fit(
        "lstm", train.x, train.y, seed=0, recipe=recipe.with_overrides(epochs=choice.epochs),
        on_epoch=kept,
    )  # fmt: skip
    kept.load_into(plain.model)
    pairs = zip(refit.model.state_dict().values(), plain.model.state_dict().values(), strict=True)
    for a, b in pairs:
        assert torch.equal(a, b)


def test_averaged_curve_scores_the_mean_of_the_last_epochs(splits: tuple[Split, Split]) -> None:
    """The selection's second curve: at each epoch, the held-out accuracy of the uniform mean
    of the last (up to) ``window`` epochs' parameters (buffers: the last epoch's), recomputed
    here from weights saved every epoch."""
    train, _ = splits
    val = train.subset(np.isin(train.subject, train.subject[:1]))
    recipe = quick("cnn_lstm", epochs=5, lr=2e-2, standardize=True)  # a buffer of statistics
    scores = TrailingMeanScores(3, val.x, val.y)
    saved: list[dict[str, torch.Tensor]] = []
    means: list[dict[str, torch.Tensor]] = []

    def keep(report: EpochReport) -> None:
        saved.append({k: v.clone() for k, v in report.model.state_dict().items()})

    def mean_now(_: EpochReport) -> None:
        means.append(scores.mean())

    callbacks = chain_callbacks(keep, scores, mean_now)
    result = fit("cnn_lstm", train.x, train.y, seed=1, recipe=recipe, on_epoch=callbacks)
    model = result.model
    params = {name for name, _ in model.named_parameters()}
    assert "norm.mean" not in params and len(scores.seconds) == 5
    for epoch in range(1, 6):
        window = saved[max(0, epoch - 3) : epoch]
        expected = {
            k: torch.stack([s[k] for s in window]).mean(0) if k in params else window[-1][k]
            for k in window[0]
        }
        for k, value in means[epoch - 1].items():
            assert torch.equal(value, expected[k]), (epoch, k)
        model.load_state_dict(expected)
        accuracy = float((evaluate(model, val.x, val.y)[0]).accuracy)
        assert scores.accuracy[epoch - 1] == pytest.approx(accuracy, abs=1e-9)
    # the window holds 3 epochs: its mean differs from the last epoch's own weights
    assert not torch.equal(means[-1]["net.conv1.weight"], saved[-1]["net.conv1.weight"])
    with pytest.raises(ValueError, match="at least 1 epoch"):
        TrailingMean(0)
    with pytest.raises(ValueError, match="at least 1 epoch"):
        scores.mean(last=0)
    with pytest.raises(TypeError, match="BatchNorm"):
        TrailingMean(2).add(torch.nn.Sequential(torch.nn.BatchNorm1d(3)))


def test_choose_keeps_own_or_averaged_weights() -> None:
    curves = pd.DataFrame(
        {
            "val_loss": [1.0, 0.5, 0.6, 0.4, 0.7],
            "val_accuracy": [0.5, 0.9, 0.7, 0.8, 0.95],
            "averaged_val_accuracy": [0.5, 0.7, 0.8, 0.9, 0.92],
        }
    )
    assert choose(curves, "last", 8) == Choice(5, 1)
    assert choose(curves, "smoothed_val_accuracy", 8) == Choice(4, 1)
    # smoothed averaged curve: 0.667, 0.725, 0.764, 0.83, 0.873 -> epoch 5, the mean kept
    assert choose(curves, "smoothed_averaged_accuracy", 8) == Choice(5, 8)
    assert choose(curves, "smoothed_any", 8) == Choice(5, 8)  # 0.873 > own weights' 0.8375
    lower = curves.assign(averaged_val_accuracy=curves.averaged_val_accuracy - 0.1)
    assert choose(lower, "smoothed_any", 8) == Choice(4, 1)
    with pytest.raises(ValueError, match="unknown selection rule"):
        choose(curves, "test_accuracy", 8)


def test_subject_folds_hold_out_every_subject_once() -> None:
    subjects = np.repeat([1, 3, 5, 6, 7, 8, 11, 14, 15, 16, 17], 4)
    folds = subject_folds(subjects, seed=2, k=3)
    assert [len(f) for f in folds] == [4, 4, 3]
    assert sorted(np.concatenate(folds).tolist()) == sorted(set(subjects.tolist()))
    other = subject_folds(subjects, seed=3, k=3)  # the seed picks the folds
    assert [f.tolist() for f in folds] != [f.tolist() for f in other]
    assert len(subject_folds(np.array([4, 4, 9]), seed=0, k=3)) == 2  # fewer subjects than k
    with pytest.raises(ValueError, match="at least 2 training subjects"):
        subject_folds(np.array([4, 4]), seed=0, k=3)


def test_selection_rules() -> None:
    loss = np.array([1.0, 0.5, 0.6, 0.4, 0.7])
    acc = np.array([0.5, 0.9, 0.7, 0.8, 0.95])
    assert select_epoch(loss, acc, "last") == 5
    assert select_epoch(loss, acc, "min_val_loss") == 4
    assert select_epoch(loss, acc, "max_val_accuracy") == 5
    # centred 5-epoch means (shorter at the ends): 0.70, 0.725, 0.77, 0.8375, 0.8167 -> epoch 4
    assert select_epoch(loss, acc, "smoothed_val_accuracy") == 4
    assert select_epoch(loss, np.array([0.9, 0.9, 0.1, 0.1, 0.1]), "max_val_accuracy") == 1
    with pytest.raises(ValueError, match="unknown selection rule"):
        select_epoch(loss, acc, "test_accuracy")


def test_standardization_fitted_on_training_data_only(splits: tuple[Split, Split]) -> None:
    train, _ = splits
    r = fit("cnn_lstm", train.x, train.y, seed=0, recipe=quick("cnn_lstm", standardize=True))
    flat = train.x.reshape(-1, train.x.shape[-1])
    assert np.allclose(r.model.norm.mean.cpu().numpy(), flat.mean(0), atol=1e-5)
    assert np.allclose(r.model.norm.std.cpu().numpy(), flat.std(0, ddof=1), rtol=1e-4)


def test_train_one_run_records_every_field(tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path, n_per_class_subject=2)
    _, sha = resolve_training_data(str(home.root))
    study = tmp_path / "runs" / "s"
    record = train_one_run(
        RunParams(
            study_id="s",
            architecture="stacked_lstm",
            repeat=3,
            seed=3,
            protocol="validated",
            data_home=str(home.root),
            data_sha256=sha,
            epochs=2,
            device="cpu",
        )
    )
    assert record.run_id == "stacked_lstm-r03" and record.protocol == "validated"
    assert record.data_sha256 == SYNTHETIC_SHA256 and record.status == "completed"
    assert record.n_params == 17_158 and record.device.startswith("cpu")
    assert record.latency_ms_batch1 > 0 and record.latency_ms_batch256 > 0
    assert 0 <= record.accuracy <= 1 and np.asarray(record.confusion).sum() == 2 * 6 * 2
    history = pd.read_parquet(study / record.history_path)
    # validated: 2 selection epochs per fold of held-out subjects, then a refit for the count
    select, refit = history[history.phase == "select"], history[history.phase == "refit"]
    assert list(history.columns) == [*HISTORY_COLUMNS, "averaged_val_accuracy", "phase", "fold"]
    assert len(select) == 2 * select.fold.nunique() and select.fold.nunique() >= 2
    training_subjects = np.unique(read_split(home.split_path("train")).subject).tolist()
    assert record.validation_subjects == training_subjects  # each held out in one fold
    assert select["val_accuracy"].notna().all() and refit["val_accuracy"].isna().all()
    assert len(refit) == record.best_epoch == record.epochs and 1 <= record.epochs <= 2
    assert record.averaged_epochs == record.epochs  # the window (8) holds every epoch here
    # the checkpoint holds the scored (averaged) weights: it reproduces the record on test
    test = read_split(home.split_path("test"))
    checkpoint = load_checkpoint(study / record.checkpoint_path)
    assert np.mean(checkpoint.predict(test.x) == test.y) == pytest.approx(record.accuracy)
    assert (study / record.checkpoint_path).is_file()
    assert set(RECORD_FIELDS) == set(vars(record))
    assert load_records(study) == [record]  # the JSON record other processes read back
    with pytest.raises(ValueError, match="differs from expected"):
        train_one_run(
            RunParams(
                study_id="s", architecture="lstm", repeat=0, seed=0, protocol="published",
                data_home=str(home.root), data_sha256="f" * 64, epochs=1, device="cpu",
            )
        )  # fmt: skip


def test_missing_tensors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"train\.parquet.*run the ingest flow"):
        resolve_training_data(str(tmp_path))


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        TrainSettings(repeats=0)
    with pytest.raises(ValidationError, match="valid architectures: lstm, cnn_lstm"):
        TrainSettings(architectures=["lstm", "gru"])
    with pytest.raises(ValidationError, match="protocol"):
        TrainSettings(protocol="test-selected")
    with pytest.raises(ValidationError, match="device"):
        TrainSettings(device="tpu")
    s = TrainSettings(architectures=None, base_seed=5)
    assert s.architectures == list(ARCHITECTURES)
    assert s.seed(2) == 7 and len(s.study_id) == len("20261123T101500Z")


def test_artifact_key_is_lowercase_dashes() -> None:
    assert artifact_key("20261123T101500Z") == "har-train-20261123t101500z"
    assert artifact_key("My_Study.v2") == "har-train-my-study-v2"
