"""The ``har`` command as a user runs it (in-process, through its entry point ``main``):
help, exit codes, one-line errors, the flow commands' options, models/studies/best."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from har_cli.app import COMMANDS, app
from har_cli.flow_commands import FLOWS
from har_data.layout import DataHome
from har_models import registry
from har_models.registry import ARCHITECTURES
from har_models.run import train_one_run
from tests.cli_helpers import assert_one_error_line, har
from tests.synthetic_tensors import run_params, write_synthetic_tensors


@pytest.fixture(scope="module")
def trained_home(
    tmp_path_factory: pytest.TempPathFactory, one_torch_thread: None
) -> Iterator[DataHome]:
    """A data home with study ``s``: lstm (2 repeats) and cnn_lstm, 1 epoch each."""
    home = write_synthetic_tensors(tmp_path_factory.mktemp("home"))
    for arch, repeat in (("lstm", 0), ("lstm", 1), ("cnn_lstm", 0)):
        train_one_run(run_params(home, architecture=arch, repeat=repeat, seed=repeat))
    yield home


# --- help and usage ---------------------------------------------------------------------


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    result = har(capsys, "--help")
    assert result.code == 0
    for name in COMMANDS:
        assert name in result.out
    assert "--debug" in result.out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    result = har(capsys, command, "--help")
    assert result.code == 0, result
    assert f"Usage: har {command}" in result.out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["bogus"], 'Unknown command "bogus"'),
        (["train", "--repeats", "0"], "--repeats"),
        (["pipeline", "--architectures", "nope"], "--architectures"),
        (["pipeline", "--device", "gpu"], "--device"),
        (["pipeline", "--study-id", "../x"], "--study-id"),
        (["predict"], "requires an argument"),
        (["predict", "a.pt", "b.csv", "--overlap", "1"], "--overlap"),
        (["best", "s", "--metric", "loss"], "--metric"),
        (["export", "a.pt"], "--format"),
        (["export", "a.pt", "--format", "tflite"], "--format"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    assert_one_error_line(har(capsys, *argv), 2, fragment)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = har(capsys, "--version")
    assert result.code == 0 and result.out.strip()


# --- flow commands: generated from the flows --------------------------------------------


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_flow_parameter_is_an_option_with_the_deployment_schema_help(name: str) -> None:
    """The CLI's options, their help and defaults are the flow's parameters and the very
    descriptions Prefect puts in a deployment's parameter schema."""
    flow = FLOWS[name]
    schema = flow.parameters.model_dump()
    properties = schema["properties"]
    arguments = {
        a.field_info.name: a
        for a in app[name].assemble_argument_collection(parse_docstring=True)
        if a.field_info.name != "debug"
    }
    assert set(arguments) == set(properties)  # every parameter an option, and vice versa
    for pname, argument in arguments.items():
        assert properties[pname].get("description"), f"{name}: {pname} has no docstring help"
        assert argument.parameter.help == properties[pname]["description"], pname
        required = pname in schema.get("required", [])
        assert argument.required == required, pname
        if not required:
            assert argument.field_info.default == properties[pname]["default"], pname


def test_pipeline_parameters_have_the_help_of_the_flow_they_are_passed_to() -> None:
    pipeline = FLOWS["pipeline"].parameters.model_dump()["properties"]
    for child in ("ingest", "train"):
        for pname, prop in FLOWS[child].parameters.model_dump()["properties"].items():
            assert pipeline[pname]["description"] == prop["description"], (child, pname)


def test_pipeline_options_pass_through() -> None:
    _, bound, _ = app.parse_args(
        ["pipeline", "--source", "/data/x.zip", "--repeats", "2", "--epochs", "3",
         "--architectures", "lstm", "cnn_lstm", "--data-home", "/tmp/h", "--max-workers", "2"]
    )  # fmt: skip
    args = bound.arguments
    assert args["source"] == "/data/x.zip" and args["architectures"] == ["lstm", "cnn_lstm"]
    assert (args["repeats"], args["epochs"], args["max_workers"]) == (2, 3, 2)
    assert "source" not in app.parse_args(["pipeline"])[1].arguments  # resolved in the flow


def test_report_takes_the_study_as_argument() -> None:
    _, bound, _ = app.parse_args(["report", "my-study", "--data-home", "/tmp/h"])
    assert bound.arguments == {"study_id": "my-study", "data_home": "/tmp/h"}


# --- models, studies, best --------------------------------------------------------------


def test_models_lists_every_architecture(capsys: pytest.CaptureFixture[str]) -> None:
    result = har(capsys, "models")
    assert result.code == 0
    rows = result.out.splitlines()[1:]
    assert [r.split()[0] for r in rows] == list(ARCHITECTURES)
    assert "54,706" in result.out  # the lstm's Keras parameter count


def test_models_json_marks_the_recommended_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(registry, "RECOMMENDED", raising=False)
    models = json.loads(har(capsys, "models", "--json").out)
    assert [m["name"] for m in models] == list(ARCHITECTURES)
    assert not any(m["recommended"] for m in models)
    assert all(m["n_params"] > 0 and m["recipe"]["epochs"] >= 1 for m in models)
    monkeypatch.setattr(registry, "RECOMMENDED", "cnn_lstm", raising=False)
    models = json.loads(har(capsys, "models", "--json").out)
    assert [m["name"] for m in models if m["recommended"]] == ["cnn_lstm"]
    table = har(capsys, "models")
    assert "cnn_lstm *" in table.out and "recommended" in table.err


def test_studies_lists_headline_numbers(
    capsys: pytest.CaptureFixture[str], trained_home: DataHome
) -> None:
    result = har(capsys, "studies", "--data-home", trained_home.root)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["study", "architecture", "protocol"]
    assert {tuple(line.split()[:4]) for line in lines[1:]} == {
        ("s", "cnn_lstm", "published", "1"),
        ("s", "lstm", "published", "2"),
    }
    rows = json.loads(har(capsys, "studies", "--data-home", trained_home.root, "--json").out)
    lstm = next(r for r in rows if r["architecture"] == "lstm")
    assert lstm["completed"] == 2 and 0 <= lstm["accuracy_mean"] <= 1


def test_studies_on_an_empty_home(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = har(capsys, "studies", "--data-home", tmp_path)
    assert result.code == 0 and result.out == "" and "no studies" in result.err


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_best_prints_the_best_checkpoint(
    capsys: pytest.CaptureFixture[str], trained_home: DataHome, metric: str
) -> None:
    from har_models.results import load_records

    records = load_records(trained_home.study("s"))
    expected = min(records, key=lambda r: (-getattr(r, metric), r.run_id))
    result = har(capsys, "best", "s", "--metric", metric, "--data-home", trained_home.root)
    assert result.code == 0, result
    assert result.out.strip() == str(trained_home.study("s").root / expected.checkpoint_path)
    only = har(capsys, "best", "s", "--architecture", "cnn_lstm", "--data-home", trained_home.root)
    assert only.out.strip().endswith("checkpoints/cnn_lstm-r00.pt")


def test_best_of_an_unknown_study(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = har(capsys, "best", "nope", "--data-home", tmp_path)
    assert_one_error_line(result, 1, "no study 'nope'")


def test_best_skips_a_missing_checkpoint(
    capsys: pytest.CaptureFixture[str], trained_home: DataHome, tmp_path: Path
) -> None:
    import shutil

    home = DataHome(tmp_path / "copy")
    shutil.copytree(trained_home.root, home.root)
    for ckpt in home.study("s").root.glob("checkpoints/*.pt"):
        ckpt.unlink()
    result = har(capsys, "best", "s", "--data-home", home.root)
    assert_one_error_line(result, 1, "checkpoints are missing")


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no study"):
        har(capsys, "--debug", "best", "nope", "--data-home", tmp_path)
