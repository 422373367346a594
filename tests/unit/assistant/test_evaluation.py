"""The evaluation figures, checked by hand on a predictor whose answers are fixed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from carepath.assistant import OUT_OF_SCOPE, Example, IntentClassifier, Prediction, evaluate
from tests.unit.assistant.examples import training_examples, validation_examples


class FixedAnswers:
    """A predictor that answers from a table: a real implementation of the protocol."""

    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers

    def predict(self, text: str) -> Prediction:
        intent = self.answers[text]
        return Prediction(intent=intent, confidence=1.0, margin=1.0, alternatives=[])

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        return [self.predict(t) for t in texts]


def test_figures_on_a_hand_checked_case() -> None:
    # given 6 in-scope rows (4 right, 1 wrong intent, 1 wrongly rejected) and 4 oos rows
    # (3 rejected, 1 given an intent)
    rows = [
        Example("a1", "a"), Example("a2", "a"), Example("b1", "b"), Example("b2", "b"),
        Example("a3", "a"), Example("b3", "b"),
        Example("o1", OUT_OF_SCOPE), Example("o2", OUT_OF_SCOPE), Example("o3", OUT_OF_SCOPE),
        Example("o4", OUT_OF_SCOPE),
    ]  # fmt: skip
    answers: dict[str, str | None] = {
        "a1": "a", "a2": "a", "b1": "b", "b2": "b", "a3": "b", "b3": None,
        "o1": None, "o2": None, "o3": None, "o4": "a",
    }  # fmt: skip
    # when evaluated
    report = evaluate(FixedAnswers(answers), rows, latency_samples=5)
    # then
    assert report.examples == 10
    assert report.oos_examples == 4
    assert report.accuracy == pytest.approx(7 / 10)
    assert report.in_scope_accuracy == pytest.approx(4 / 6)
    assert report.oos_recall == pytest.approx(3 / 4)
    assert report.oos_precision == pytest.approx(3 / 4)  # 4 rejections, 3 of them right
    # per label F1: a: p=2/3 r=2/3; b: p=2/3 r=2/3; oos: p=3/4 r=3/4
    assert report.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 3 / 4) / 3)
    assert report.latency_samples == 5
    assert 0 <= report.latency_p50_ms <= report.latency_p99_ms


def test_without_oos_rows_the_oos_figures_are_undefined() -> None:
    rows = [Example("a1", "a"), Example("b1", "b")]
    report = evaluate(FixedAnswers({"a1": "a", "b1": "b"}), rows)
    assert report.accuracy == 1.0
    assert report.oos_recall is None
    assert report.oos_precision is None
    assert report.to_dict()["oos_recall"] is None


def test_a_real_classifier_is_fast_on_one_message() -> None:
    # given the small trained classifier
    model = IntentClassifier.train(training_examples(), validation=validation_examples())
    # when evaluated on its validation rows
    report = evaluate(model, validation_examples(), latency_samples=200)
    # then the figures are sensible and one prediction costs well under 2 ms of CPU
    assert report.in_scope_accuracy == 1.0
    assert report.oos_recall == 1.0
    assert report.cpu_p50_ms < 2.0
