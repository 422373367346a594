"""Intent classifier benchmark on Banking77 and CLINC150, side by side with baselines.

Run: .venv/bin/python benchmarks/intent_classifier.py [--data DIR] [--no-baselines]
Prints a Markdown table and writes JSON to benchmarks/results/. Data: ../shared/data (or
$CAREPATH_SHARED_DATA) with banking77/{train,test}.csv and clinc150/data_full.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from carepath.assistant import (
    Example,
    IntentClassifier,
    Prediction,
    ThresholdObjective,
    Thresholds,
    evaluate,
    load_examples,
)
from carepath.assistant.thresholds import choose_thresholds

REPO = Path(__file__).resolve().parents[1]
# As recording.RESULTS; spelled out because the tests import this file as `benchmarks.…`, where
# the sibling module `recording` is not importable.
RESULTS = Path(os.environ.get("CAREPATH_BENCH_RESULTS") or REPO / "benchmarks" / "results")
LATENCY_SAMPLES = 1000
TARGETS = {
    "banking77 accuracy": 0.91,
    "clinc150 in-scope accuracy": 0.92,
    "clinc150 oos recall": 0.50,
    "training seconds": 60.0,
    "p99 single prediction ms": 2.0,
}


def shared_data() -> Path:
    """Where the datasets live: $CAREPATH_SHARED_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("CAREPATH_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@dataclass
class Result:
    dataset: str
    system: str
    train_seconds: float
    figures: dict[str, Any]
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Baseline:
    """A scikit-learn model behind the same `predict`/`predict_many` as the classifier."""

    def __init__(self, fit: Callable[[list[str], list[str]], Any], name: str) -> None:
        self.fit_fn = fit
        self.name = name
        self.model: Any = None
        self.classes: list[str] = []
        self.thresholds = Thresholds()

    def fit(self, examples: Sequence[Example]) -> float:
        started = time.perf_counter()
        self.model = self.fit_fn([e.text for e in examples], [e.intent for e in examples])
        self.classes = list(self.model.classes_)
        return time.perf_counter() - started

    def probabilities(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        return np.asarray(self.model.predict_proba(list(texts)))

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        probs = self.probabilities(texts)
        order = np.argsort(-probs, axis=1)
        out = []
        for row, ranked in zip(probs, order, strict=True):
            top = float(row[ranked[0]])
            margin = top - float(row[ranked[1]]) if len(ranked) > 1 else top
            rejected = top < self.thresholds.confidence or margin < self.thresholds.margin
            out.append(
                Prediction(
                    intent=None if rejected else self.classes[ranked[0]],
                    confidence=top,
                    margin=margin,
                    alternatives=[(self.classes[j], float(row[j])) for j in ranked[:3]],
                )
            )
        return out

    def tune(self, validation: Sequence[Example], objective: ThresholdObjective) -> None:
        """The same objective and grid as the classifier, on this model's probabilities."""
        preds = self.with_no_thresholds().predict_many([e.text for e in validation])
        is_oos = np.array([not e.in_scope for e in validation])
        correct = np.array([p.intent == e.intent for p, e in zip(preds, validation, strict=True)])
        confidence = np.array([p.confidence for p in preds])
        margin = np.array([p.margin for p in preds])
        choice = choose_thresholds(confidence, margin, correct & ~is_oos, is_oos, objective)
        self.thresholds = choice.thresholds

    def with_no_thresholds(self) -> Baseline:
        copy = Baseline(self.fit_fn, self.name)
        copy.model, copy.classes = self.model, self.classes
        return copy


def word_tfidf_logreg(texts: list[str], labels: list[str]) -> Any:
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(texts, labels)


class Majority:
    """Always the most frequent training intent."""

    classes_: list[str]

    def fit(self, texts: list[str], labels: list[str]) -> Majority:
        self.classes_ = sorted(set(labels))
        self.top = self.classes_.index(Counter(labels).most_common(1)[0][0])
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray[Any, Any]:
        probs = np.zeros((len(texts), len(self.classes_)))
        probs[:, self.top] = 1.0
        return probs


def majority(texts: list[str], labels: list[str]) -> Any:
    return Majority().fit(texts, labels)


def _figures(model: Any, examples: Sequence[Example]) -> dict[str, Any]:
    return evaluate(model, examples, latency_samples=LATENCY_SAMPLES).to_dict()


def run_banking77(data: Path, *, baselines: bool = True) -> list[Result]:
    """Closed-set: Banking77 has no out-of-scope rows, so every system is scored without
    thresholds (the standard Banking77 accuracy)."""
    train = load_examples(data / "banking77" / "train.csv").examples
    test = load_examples(data / "banking77" / "test.csv").examples
    model = IntentClassifier.train(train)
    assert model.summary is not None
    results = [
        Result(
            "banking77", "carepath", model.summary.seconds,
            _figures(model.with_thresholds(Thresholds()), test),
            notes="word 1-2 + char_wb 2-5 TF-IDF, LinearSVC, temperature-calibrated",
            extra={"temperature": model.temperature},
        )
    ]  # fmt: skip
    if baselines:
        results += _baselines("banking77", train, test, None)
    return results


def run_clinc150(data: Path, *, baselines: bool = True) -> list[Result]:
    """Train on `train` (its 100 oos_train rows unused), tune thresholds on `val` + `oos_val`
    only, score on `test` + `oos_test`."""
    path = data / "clinc150" / "data_full.json"
    train = [e for e in load_examples(path, split="train").examples if e.in_scope]
    val = load_examples(path, split="val").examples
    test = load_examples(path, split="test").examples
    model = IntentClassifier.train(train, validation=val)
    assert model.summary is not None
    assert model.tuning is not None
    results = [
        Result(
            "clinc150", "carepath", model.summary.seconds, _figures(model, test),
            notes="as banking77; calibration + thresholds on val",
            extra={
                "thresholds": asdict(model.thresholds),
                "val": model.tuning.to_dict(),
                "test_frontier_not_tuned": frontier(model, test),
            },
        )
    ]  # fmt: skip
    if baselines:
        results += _baselines("clinc150", train, test, val)
    return results


def frontier(model: IntentClassifier, test: Sequence[Example]) -> dict[str, float]:
    """In-scope accuracy at a given oos recall with the confidence threshold set on the test
    rows themselves: not a result (that would tune on test), but it shows what any threshold
    could reach with this model, whatever the validation set."""
    preds = model.with_thresholds(Thresholds()).predict_many([e.text for e in test])
    confidence = np.array([p.confidence for p in preds])
    is_oos = np.array([not e.in_scope for e in test])
    correct = np.array([p.intent == e.intent for p, e in zip(preds, test, strict=True)])
    out = {}
    for recall in (0.5, 0.6, 0.7):
        threshold = np.quantile(confidence[is_oos], recall)
        accepted = confidence >= threshold
        hits = correct & accepted & ~is_oos
        out[f"in_scope_accuracy_at_oos_recall_{recall}"] = float(hits.sum() / (~is_oos).sum())
    return out


def _baselines(
    dataset: str, train: Sequence[Example], test: Sequence[Example], val: Sequence[Example] | None
) -> list[Result]:
    results = []
    for name, fit, notes in [
        ("tfidf-word + logreg", word_tfidf_logreg, "word unigrams, LogisticRegression, no char"),
        ("majority class", majority, "always the most frequent intent"),
    ]:
        baseline = Baseline(fit, name)
        seconds = baseline.fit(train)
        if val is not None and fit is not majority:  # a constant answer has nothing to tune
            baseline.tune(val, ThresholdObjective())
        results.append(Result(dataset, name, seconds, _figures(baseline, test), notes=notes))
    return results


def markdown(results: Sequence[Result]) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2%}"

    lines = [
        "| dataset | system | accuracy | macro-F1 | in-scope acc | oos recall | oos precision "
        "| train s | p50 ms | p99 ms | p99 CPU ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        f = r.figures
        lines.append(
            f"| {r.dataset} | {r.system} | {pct(f['accuracy'])} | {pct(f['macro_f1'])} "
            f"| {pct(f['in_scope_accuracy'])} | {pct(f['oos_recall'])} "
            f"| {pct(f['oos_precision'])} | {r.train_seconds:.1f} | {f['latency_p50_ms']:.3f} "
            f"| {f['latency_p99_ms']:.3f} | {f['cpu_p99_ms']:.3f} |"
        )
    return "\n".join(lines)


def target_checks(results: Sequence[Result]) -> dict[str, dict[str, Any]]:
    ours = {r.dataset: r for r in results if r.system == "carepath"}
    checks: dict[str, tuple[float, bool]] = {}
    if "banking77" in ours:
        b = ours["banking77"]
        checks["banking77 accuracy"] = (b.figures["accuracy"], True)
    if "clinc150" in ours:
        c = ours["clinc150"]
        checks["clinc150 in-scope accuracy"] = (c.figures["in_scope_accuracy"], True)
        checks["clinc150 oos recall"] = (c.figures["oos_recall"], True)
    if ours:
        checks["training seconds"] = (max(r.train_seconds for r in ours.values()), False)
        worst = max(r.figures["latency_p99_ms"] for r in ours.values())
        checks["p99 single prediction ms"] = (worst, False)
    return {
        name: {
            "value": value,
            "target": TARGETS[name],
            "met": value >= TARGETS[name] if at_least else value < TARGETS[name],
        }
        for name, (value, at_least) in checks.items()
    }


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "machine": platform.machine(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared_data())
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not (args.data / "banking77").is_dir() or not (args.data / "clinc150").is_dir():
        print(f"no datasets under {args.data}; pass --data or set CAREPATH_SHARED_DATA")
        return 2
    before = environment()
    results = run_banking77(args.data, baselines=not args.no_baselines)
    results += run_clinc150(args.data, baselines=not args.no_baselines)
    checks = target_checks(results)
    print(markdown(results))
    print()
    for name, check in checks.items():
        mark = "met" if check["met"] else "NOT MET"
        print(f"- {name}: {check['value']:.4g} (target {check['target']}): {mark}")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    report = {
        "benchmark": "intent_classifier",
        "at": stamp,
        "environment": {"before": before, "after": environment()},
        "results": [asdict(r) for r in results],
        "targets": checks,
    }
    out = args.out / f"intent_classifier-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
