"""Accuracy, macro-F1, out-of-scope recall/precision and single-message latency of a classifier."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from sklearn.metrics import f1_score

from carepath.assistant.classifier import Prediction
from carepath.assistant.training_data import OUT_OF_SCOPE, Example

WARMUP_PREDICTIONS = 20


class Predictor(Protocol):
    def predict(self, text: str) -> Prediction: ...

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """`accuracy` and `macro_f1` count `oos` as one more label (a rejected message predicts it);
    macro-F1 averages over the gold labels present. `in_scope_accuracy` is over gold in-scope
    rows, where a rejection is wrong. Out-of-scope figures are None when they are undefined.
    Latency is wall-clock per `predict()` call on one message; `cpu` is the calling thread's
    CPU time, which other processes on a busy machine do not inflate."""

    examples: int
    oos_examples: int
    accuracy: float
    macro_f1: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    oos_precision: float | None
    latency_p50_ms: float
    latency_p99_ms: float
    cpu_p50_ms: float
    cpu_p99_ms: float
    latency_samples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    classifier: Predictor, examples: Sequence[Example], *, latency_samples: int = 1000
) -> EvaluationReport:
    if not examples:
        raise ValueError("nothing to evaluate")
    texts = [e.text for e in examples]
    gold = np.array([e.intent for e in examples], dtype=object)
    predicted = np.array(
        [p.intent or OUT_OF_SCOPE for p in classifier.predict_many(texts)], dtype=object
    )
    wall, cpu = measure_latency(classifier, texts[:latency_samples])
    is_oos = gold == OUT_OF_SCOPE
    said_oos = predicted == OUT_OF_SCOPE
    right = predicted == gold
    return EvaluationReport(
        examples=len(examples),
        oos_examples=int(is_oos.sum()),
        accuracy=float(right.mean()),
        macro_f1=float(
            f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)
        ),
        in_scope_accuracy=_share(right, ~is_oos),
        oos_recall=_share(said_oos, is_oos),
        oos_precision=_share(is_oos, said_oos),
        latency_p50_ms=_percentile(wall, 50),
        latency_p99_ms=_percentile(wall, 99),
        cpu_p50_ms=_percentile(cpu, 50),
        cpu_p99_ms=_percentile(cpu, 99),
        latency_samples=len(wall),
    )


def measure_latency(classifier: Predictor, texts: Sequence[str]) -> tuple[list[float], list[float]]:
    """Seconds of wall-clock and of thread CPU time for each single-message `predict()`."""
    for text in texts[:WARMUP_PREDICTIONS]:
        classifier.predict(text)
    wall: list[float] = []
    cpu: list[float] = []
    for text in texts:
        w, c = time.perf_counter(), time.thread_time()
        classifier.predict(text)
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return wall, cpu


def _share(hits: np.ndarray[Any, Any], among: np.ndarray[Any, Any]) -> float | None:
    n = int(among.sum())
    return float((hits & among).sum() / n) if n else None


def _percentile(seconds: list[float], q: float) -> float:
    return float(np.percentile(seconds, q) * 1000) if seconds else 0.0
