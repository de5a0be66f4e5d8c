"""benchmarks/accuracy.py: recipe variants, and no Prefect needed to run it (GPU boxes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.accuracy import main
from har_models.results import load_records
from tests.synthetic_tensors import write_synthetic_tensors

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]


def test_recipe_override_is_trained_and_recorded_in_the_checkpoint(tmp_path: Path) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    args = ["--architectures", "lstm", "--repeats", "1", "--epochs", "1", "--device", "cpu"]
    args += ["--data-home", str(home.root), "--results-dir", str(tmp_path)]
    assert main([*args, "--study-id", "plain"]) == 0
    assert main([*args, "--study-id", "std", "--recipe", "standardize=true,lr=0.01"]) == 0

    def checkpoint(study: str) -> dict:
        path = home.study_dir(study) / "checkpoints" / "lstm-r00.pt"
        return torch.load(path, weights_only=True)

    plain, std = checkpoint("plain"), checkpoint("std")
    assert plain["extra"]["recipe"]["standardize"] is False
    assert plain["extra"]["recipe"]["lr"] == 1e-3
    assert std["extra"]["recipe"]["standardize"] is True and std["extra"]["recipe"]["lr"] == 0.01
    assert std["extra"]["recipe"]["epochs"] == 1
    # The override was trained, not only written down: the input statistics were fitted.
    assert not bool(plain["state_dict"]["norm.fitted"])
    assert bool(std["state_dict"]["norm.fitted"])
    assert not torch.equal(std["state_dict"]["norm.std"], torch.ones(9))
    assert [len(load_records(home.study_dir(s))) for s in ("plain", "std")] == [1, 1]


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ("depth=3", "--recipe: unknown field(s) depth"),
        ("shuffle=3", "recipe field shuffle=3 must be bool"),
        ("lr=fast", "recipe field lr='fast' must be float"),
    ],
)
def test_bad_recipe_override_is_rejected_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], recipe: str, message: str
) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=1)
    with pytest.raises(SystemExit) as exc:
        main(["--data-home", str(home.root), "--results-dir", str(tmp_path), "--study-id", "bad",
              "--recipe", recipe])  # fmt: skip
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not home.study_dir("bad").exists()


@pytest.mark.integration
def test_benchmarks_and_run_function_import_without_prefect() -> None:
    """A lent GPU machine has PyTorch but no Prefect: the benchmarks must not need it."""
    code = (
        "import sys; sys.modules['prefect'] = None; sys.modules['great_expectations'] = None\n"
        "import benchmarks.accuracy, benchmarks.validation, benchmarks.per_subject\n"
        "import har_models.run\n"
        "print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_validated_protocol_and_no_mixing_of_protocols_in_a_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = write_synthetic_tensors(tmp_path / "home", n_per_class_subject=2)
    args = ["--architectures", "lstm", "--repeats", "1", "--epochs", "2", "--device", "cpu"]
    args += ["--data-home", str(home.root), "--study-id", "val", "--results-dir", str(tmp_path)]
    assert main([*args, "--protocol", "validated"]) == 0
    [record] = load_records(home.study_dir("val"))
    assert record.protocol == "validated" and 1 <= record.best_epoch <= record.epochs <= 2
    assert "validated protocol" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(args)  # published runs may not reuse the validated records
    assert "trained with the validated protocol" in capsys.readouterr().err
    assert len(load_records(home.study_dir("val"))) == 1
