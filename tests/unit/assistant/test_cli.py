"""`carepath assistant train` and `eval` as a user runs them: in a subprocess, on files."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from tests.processes import CAREPATH
from tests.unit.assistant.examples import training_csv, validation_csv


def carepath(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAREPATH, "assistant", *map(str, args)],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    train = tmp_path / "train.csv"
    train.write_text(training_csv(), encoding="utf-8")
    validation = tmp_path / "validation.csv"
    validation.write_text(validation_csv(), encoding="utf-8")
    return train, validation


def test_train_then_eval(tmp_path: Path, files: tuple[Path, Path]) -> None:
    train, validation = files
    model = tmp_path / "model"
    # when a model is trained with a validation file
    trained = carepath("train", "--data", train, "--validation", validation, "--out", model)
    # then it reports the version and its figures, and the store holds it as current
    assert trained.returncode == 0, trained.stderr
    version = (model / "current").read_text().strip()
    assert f"trained {version}" in trained.stdout
    assert "4 intents, 60 examples" in trained.stdout
    assert "oos_recall" in trained.stdout
    # when it is evaluated with --json
    evaluated = carepath("eval", "--model", model, "--data", validation, "--json")
    # then the figures come back as JSON
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["version"] == version
    assert report["examples"] == 14
    assert report["oos_examples"] == 6
    assert report["in_scope_accuracy"] == 1.0
    assert report["oos_recall"] == 1.0
    assert set(report) >= {"accuracy", "macro_f1", "oos_precision", "latency_p50_ms"}


def test_train_json_prints_the_manifest(tmp_path: Path, files: tuple[Path, Path]) -> None:
    train, _ = files
    trained = carepath("train", "--data", train, "--out", tmp_path / "m", "--seed", "3", "--json")
    assert trained.returncode == 0, trained.stderr
    manifest = json.loads(trained.stdout)
    assert manifest["config"]["seed"] == 3
    assert manifest["metrics"]["held_out"] == "cross-validation"
    assert manifest["training_data"]["examples"] == 60


def test_bad_rows_fail_with_their_row_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,intent\nwhere is my card,card_arrival\n,refund\n", encoding="utf-8")
    result = carepath("train", "--data", bad, "--out", tmp_path / "m")
    assert result.returncode == 1
    assert "row 3: empty text" in result.stderr
    assert not (tmp_path / "m").exists()


def test_eval_of_a_missing_model_says_to_train_first(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    result = carepath("eval", "--model", tmp_path / "none", "--data", files[1])
    assert result.returncode == 1
    assert "no trained model here" in result.stderr


def test_an_unknown_format_is_named(tmp_path: Path, files: tuple[Path, Path]) -> None:
    result = carepath("train", "--data", files[0], "--out", tmp_path / "m", "--format", "xml")
    assert result.returncode == 1
    assert "--format must be one of csv, yaml, clinc150" in result.stderr


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="sentence-transformers is installed here",
)
def test_embeddings_without_sentence_transformers_fail_clearly(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    result = carepath(
        "train", "--data", files[0], "--out", tmp_path / "m", "--embeddings", tmp_path
    )  # fmt: skip
    assert result.returncode == 2
    assert "need the `sentence-transformers` package" in result.stderr
