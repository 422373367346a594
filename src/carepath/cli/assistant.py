"""`carepath assistant train|eval`: the intent classifier from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from carepath.cli.common import console, fail
from carepath.errors import CarepathError, ConfigurationError

if TYPE_CHECKING:  # scikit-learn takes a second to import: only the assistant commands pay it
    from carepath.assistant import Manifest, TrainingData

assistant_app = typer.Typer(
    help="Train and evaluate the assistant's intent classifier.", no_args_is_help=True
)

FORMAT_HELP = (
    "csv (header text,intent or Banking77's text,category), yaml (a mapping of each intent to "
    "its list of examples, or a list of {text, intent} items) or clinc150 (its data_full.json, "
    "see --split); default: from the file name (.csv, .yaml/.yml, .json)."
)


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    try:
        yield
    except ConfigurationError as exc:
        fail(exc.message, code=2)
    except CarepathError as exc:
        fail(exc.message)


def _load(path: Path, fmt: str | None, split: str) -> TrainingData:
    from carepath.assistant import DataFormat, load_examples

    chosen: DataFormat | None = None
    if fmt is not None:
        try:
            chosen = DataFormat(fmt.lower())
        except ValueError:
            fail(f"--format must be one of {', '.join(f.value for f in DataFormat)}, not {fmt!r}")
    return load_examples(path, format=chosen, split=split)


@assistant_app.command("train")
def train(
    data: Path = typer.Option(
        ...,
        "--data",
        help="Training examples. Rows with intent `oos` are out-of-scope examples: used to "
        "choose thresholds, not as a class.",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="Model directory: the new version is added under versions/ and made current.",
    ),
    validation: Path | None = typer.Option(
        None,
        "--validation",
        help="Held-out examples (with `oos` rows) to tune the out-of-scope thresholds on; "
        "without it they come from cross-validation of --data.",
    ),
    data_format: str | None = typer.Option(None, "--format", help=FORMAT_HELP),
    split: str = typer.Option(
        "train",
        "--split",
        help="CLINC150 split of --data: train, val or test (with its oos_ rows).",
    ),
    validation_split: str = typer.Option(
        "val", "--validation-split", help="CLINC150 split of --validation."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for cross-validation and the solver."),
    embeddings: Path | None = typer.Option(
        None,
        "--embeddings",
        help="Local folder of a sentence-transformers model whose embeddings are added as "
        "features (needs the sentence-transformers package; never downloads anything).",
    ),
    min_oos_recall: float = typer.Option(
        0.6,
        "--min-oos-recall",
        min=0.0,
        max=1.0,
        help="Out-of-scope recall the thresholds must reach on the tuning rows.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the new version's manifest as JSON."),
) -> None:
    """Train a new model version from examples, tune its thresholds, and make it current."""
    from carepath.assistant import (
        IntentClassifier,
        ModelStore,
        ThresholdObjective,
        TrainingConfig,
        evaluate,
        load_sentence_embedder,
    )

    config = TrainingConfig(seed=seed)
    objective = ThresholdObjective(min_oos_recall=min_oos_recall)
    with _errors_to_exit(), _progress(as_json) as progress:
        steps = 4 + (0 if validation else config.folds)
        task = progress.add_task("reading examples", total=steps)
        embedder = load_sentence_embedder(embeddings) if embeddings else None
        training = _load(data, data_format, split)
        held_out = _load(validation, data_format, validation_split) if validation else None

        def step(description: str) -> None:
            progress.update(task, description=description, advance=1)

        model = IntentClassifier.train(
            training.examples,
            validation=held_out.examples if held_out else None,
            config=config,
            embedder=embedder,
            objective=objective,
            progress=step,
        )
        metrics: dict[str, Any] = {}
        if model.summary:
            metrics["training_seconds"] = round(model.summary.seconds, 2)
            metrics["held_out"] = model.summary.held_out
            metrics["held_out_accuracy"] = model.summary.held_out_accuracy
        if held_out:
            metrics["validation"] = evaluate(model, held_out.examples).to_dict()
        step("saving")
        manifest = ModelStore(out).save(
            model,
            training_data=training.describe(),
            validation_data=held_out.describe() if held_out else None,
            metrics=metrics,
        )
        progress.update(task, completed=steps)
    if as_json:
        print(manifest.to_json(), end="")
    else:
        _print_trained(manifest, out)


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
        yield progress


def _print_trained(manifest: Manifest, out: Path) -> None:
    data = manifest.training_data
    t = manifest.thresholds
    console.print(f"trained [bold]{manifest.version}[/] in {out / 'versions' / manifest.version}")
    console.print(
        f"  {len(manifest.classes)} intents, {data['examples']} examples "
        f"({data['oos_examples']} out-of-scope), {manifest.metrics.get('training_seconds')} s",
        highlight=False,
    )
    console.print(
        f"  top-intent accuracy on {manifest.metrics.get('held_out')} rows: "
        f"{manifest.metrics.get('held_out_accuracy', 0):.1%}",
        highlight=False,
    )
    rule = (manifest.threshold_tuning or {}).get("rule", "")
    console.print(
        f"  out of scope when confidence < {t.confidence:.3f} or margin < {t.margin:.3f} ({rule})",
        highlight=False,
    )
    if "validation" in manifest.metrics:
        _print_report(manifest.metrics["validation"], title="validation (thresholds tuned here)")


@assistant_app.command("eval")
def eval_(
    model: Path = typer.Option(
        ..., "--model", help="Model directory (its current version) or one version's directory."
    ),
    data: Path = typer.Option(
        ...,
        "--data",
        help="Labelled examples; rows with intent `oos` measure out-of-scope recall and precision.",
    ),
    data_format: str | None = typer.Option(None, "--format", help=FORMAT_HELP),
    split: str = typer.Option("test", "--split", help="CLINC150 split of --data."),
    latency_samples: int = typer.Option(
        1000,
        "--latency-samples",
        min=1,
        help="Messages predicted one at a time to measure latency.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Accuracy, macro-F1, out-of-scope recall/precision and latency of a model on examples."""
    from carepath.assistant import evaluate, open_model

    with _errors_to_exit():
        loaded = open_model(model)
        examples = _load(data, data_format, split)
        report = evaluate(loaded.classifier, examples.examples, latency_samples=latency_samples)
    if as_json:
        print(json.dumps({"version": loaded.version, **report.to_dict()}, indent=2))
    else:
        _print_report(report.to_dict(), title=f"{loaded.version} on {data}")


def _print_report(figures: dict[str, Any], *, title: str) -> None:
    table = Table("measure", "value", title=title, title_justify="left")
    for name, value in figures.items():
        shown = "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else value
        table.add_row(name, str(shown))
    console.print(table)


def _register_tenant_training() -> None:
    from carepath.cli.assistant_tenant import train_tenant

    assistant_app.command("train-tenant")(train_tenant)


_register_tenant_training()
