"""The per-tenant intent classifier: TF-IDF features, a linear SVM, calibrated probabilities and
out-of-scope thresholds on confidence and margin."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from carepath.assistant.calibration import fit_temperature, softmax
from carepath.assistant.features import Embedder, FeatureConfig, Matrix, TextFeatures, stack
from carepath.assistant.thresholds import (
    ThresholdChoice,
    ThresholdObjective,
    Thresholds,
    choose_thresholds,
)
from carepath.assistant.training_data import Example
from carepath.errors import InvalidInput

STATE_FORMAT = 1
TOP_K = 3
MIN_EXAMPLES_PER_INTENT = 2

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Prediction:
    """`intent` is None when the message is out of scope; `alternatives` are the top intents
    with their probabilities, best first, whether or not the message was rejected."""

    intent: str | None
    confidence: float
    margin: float
    alternatives: list[tuple[str, float]]

    @property
    def out_of_scope(self) -> bool:
        return self.intent is None


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """`c` is LinearSVC's regularisation (0.7 measured best on Banking77 and CLINC150 held-out
    splits); `folds` are the cross-validation folds whose held-out scores fit the calibration."""

    c: float = 0.7
    folds: int = 3
    seed: int = 0
    features: FeatureConfig = field(default_factory=FeatureConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        features = data["features"]
        return cls(
            c=data["c"],
            folds=data["folds"],
            seed=data["seed"],
            features=FeatureConfig(
                word_ngrams=tuple(features["word_ngrams"]),
                char_ngrams=tuple(features["char_ngrams"]),
                embedding_weight=features["embedding_weight"],
            ),
        )


@dataclass(frozen=True, slots=True)
class TrainingSummary:
    seconds: float
    examples: int
    oos_examples: int
    held_out_accuracy: float
    held_out: str
    temperature: float


class IntentClassifier:
    """Build with `train()`; `predict()` is what serving calls, one message at a time."""

    def __init__(
        self,
        features: TextFeatures,
        classes: Sequence[str],
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
        temperature: float,
        thresholds: Thresholds,
        config: TrainingConfig,
    ) -> None:
        self.features = features
        self.classes = list(classes)
        self.temperature = temperature
        self.thresholds = thresholds
        self.config = config
        self.tuning: ThresholdChoice | None = None
        self.summary: TrainingSummary | None = None
        self._coef = np.ascontiguousarray(coef, dtype=np.float32)
        self._intercept = np.asarray(intercept, dtype=np.float32)
        self._split_coef()

    def _split_coef(self) -> None:
        edges = np.cumsum(
            [len(self.features.word.vocabulary_), len(self.features.char.vocabulary_)]
        )
        if self.features.embedder is None:
            edges = edges[:-1]
        self._blocks = np.split(self._coef, edges)  # one weight matrix per feature block

    # -- training -------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        *,
        validation: Sequence[Example] | None = None,
        config: TrainingConfig = TrainingConfig(),
        embedder: Embedder | None = None,
        objective: ThresholdObjective = ThresholdObjective(),
        progress: Progress | None = None,
    ) -> IntentClassifier:
        """Fit on the in-scope examples; `oos` rows are never a class.

        Calibration (the softmax temperature) and the out-of-scope thresholds are fitted on
        held-out scores: of the `validation` rows when given, otherwise cross-validated scores
        of the training rows, with the training `oos` rows as the out-of-scope examples.
        """
        started = time.perf_counter()
        step = progress or (lambda _: None)
        inside = [e for e in examples if e.in_scope]
        classes, labels = _labels(inside)

        step("features")
        features = TextFeatures(config.features, embedder)
        x = stack(features.fit_blocks([e.text for e in inside]))

        step("final model")
        coef, intercept = _weights(LinearSVC(C=config.c, random_state=config.seed).fit(x, labels))
        model = cls(features, classes, coef, intercept, 1.0, Thresholds(), config)

        if validation is None:
            held_scores = _cross_validated_scores(x, labels, len(classes), config, step)
            held_labels = labels
            oos_texts = [e.text for e in examples if not e.in_scope]
        else:
            held_labels, in_texts, oos_texts = model._held_out(validation)
            held_scores = model.scores(in_texts).astype(np.float64)
        step("calibration and thresholds")
        model.temperature = fit_temperature(held_scores, held_labels)
        oos_scores = model.scores(oos_texts) if oos_texts else None
        model.tuning = model._choose(held_scores, held_labels, oos_scores, objective)
        model.thresholds = model.tuning.thresholds
        model.summary = TrainingSummary(
            seconds=time.perf_counter() - started,
            examples=len(inside),
            oos_examples=len(examples) - len(inside),
            held_out_accuracy=float((held_scores.argmax(axis=1) == held_labels).mean()),
            held_out="validation" if validation is not None else "cross-validation",
            temperature=model.temperature,
        )
        return model

    def tune_thresholds(
        self, validation: Sequence[Example], objective: ThresholdObjective = ThresholdObjective()
    ) -> ThresholdChoice:
        """Choose the thresholds on held-out rows (never the training rows), and keep them."""
        labels, in_texts, oos_texts = self._held_out(validation)
        oos_scores = self.scores(oos_texts) if oos_texts else None
        self.tuning = self._choose(self.scores(in_texts), labels, oos_scores, objective)
        self.thresholds = self.tuning.thresholds
        return self.tuning

    def _held_out(
        self, validation: Sequence[Example]
    ) -> tuple[NDArray[np.intp], list[str], list[str]]:
        index = {name: i for i, name in enumerate(self.classes)}
        unknown = sorted({e.intent for e in validation if e.in_scope and e.intent not in index})
        if unknown:
            raise InvalidInput(
                f"validation intents that the model was not trained on: {', '.join(unknown[:10])}",
                intents=unknown,
            )
        inside = [e for e in validation if e.in_scope]
        if not inside:
            raise InvalidInput("validation data has no in-scope rows to tune thresholds on")
        labels = np.array([index[e.intent] for e in inside], dtype=np.intp)
        return labels, [e.text for e in inside], [e.text for e in validation if not e.in_scope]

    def _choose(
        self,
        scores: NDArray[np.floating],
        labels: NDArray[np.intp],
        oos_scores: NDArray[np.floating] | None,
        objective: ThresholdObjective,
    ) -> ThresholdChoice:
        if oos_scores is not None:
            scores = np.vstack([scores, oos_scores])
        n_oos = 0 if oos_scores is None else len(oos_scores)
        probs = softmax(scores, self.temperature)
        confidence, margin = _top_two(probs)
        gold = np.concatenate([labels, np.full(n_oos, -1)])
        is_oos = np.concatenate([np.zeros(len(labels), bool), np.ones(n_oos, bool)])
        return choose_thresholds(
            confidence, margin, probs.argmax(axis=1) == gold, is_oos, objective
        )

    # -- prediction -----------------------------------------------------------------------

    def scores(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Raw linear scores, one row per text, one column per class."""
        return self._score_blocks(self.features.blocks(texts))

    def _score_blocks(self, blocks: list[Matrix]) -> NDArray[np.float32]:
        total = np.tile(self._intercept, (blocks[0].shape[0], 1))
        for block, weights in zip(blocks, self._blocks, strict=True):
            total += block @ weights
        return total

    def predict(self, text: str) -> Prediction:
        rows, embedding = self.features.one(text)
        scores = self._intercept.copy()
        for (columns, values), weights in zip(rows, self._blocks[:2], strict=True):
            scores += values @ weights[columns]
        if embedding is not None:
            scores += embedding @ self._blocks[-1]
        return self._predictions(scores[None, :])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """The same answers as `predict` for each text, computed as one batch."""
        return self._predictions(self.scores(texts)) if texts else []

    def _predictions(self, scores: NDArray[np.floating]) -> list[Prediction]:
        probs = softmax(scores, self.temperature)
        k = min(TOP_K, probs.shape[1])
        top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        confidence, margin = _top_two(probs)
        rejected = self.thresholds.rejects(confidence, margin)
        return [
            Prediction(
                intent=None if rejected[i] else self.classes[top[i, 0]],
                confidence=float(confidence[i]),
                margin=float(margin[i]),
                alternatives=[(self.classes[j], float(probs[i, j])) for j in top[i]],
            )
            for i in range(len(probs))
        ]

    def with_thresholds(self, thresholds: Thresholds) -> IntentClassifier:
        """A copy that shares the fitted model and rejects by other thresholds."""
        copy = IntentClassifier.__new__(IntentClassifier)
        copy.__dict__.update(self.__dict__)
        copy.thresholds = thresholds
        copy.tuning = None  # the tuning result describes the original thresholds, not these
        return copy

    # -- persistence (see model_store for the files) --------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "features": self.features.state(),
            "classes": self.classes,
            "coef": self._coef,
            "intercept": self._intercept,
            "temperature": self.temperature,
            "config": self.config.to_dict(),
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], thresholds: Thresholds, embedder: Embedder | None = None
    ) -> IntentClassifier:
        if state.get("format") != STATE_FORMAT:
            raise InvalidInput(f"unknown model format {state.get('format')!r}")
        config = TrainingConfig.from_dict(state["config"])
        features = TextFeatures.from_state(state["features"], config.features, embedder)
        return cls(
            features,
            state["classes"],
            state["coef"],
            state["intercept"],
            state["temperature"],
            thresholds,
            config,
        )


def _labels(inside: Sequence[Example]) -> tuple[list[str], NDArray[np.intp]]:
    counts: dict[str, int] = {}
    for e in inside:
        counts[e.intent] = counts.get(e.intent, 0) + 1
    if len(counts) < 2:
        raise InvalidInput(
            f"training needs at least 2 intents besides `oos`; found {len(counts)}",
            intents=sorted(counts),
        )
    few = sorted(name for name, n in counts.items() if n < MIN_EXAMPLES_PER_INTENT)
    if few:
        raise InvalidInput(
            f"each intent needs at least {MIN_EXAMPLES_PER_INTENT} examples; too few for: "
            f"{', '.join(few[:10])}{' …' if len(few) > 10 else ''}",
            intents=few,
        )
    classes = sorted(counts)
    index = {name: i for i, name in enumerate(classes)}
    return classes, np.array([index[e.intent] for e in inside], dtype=np.intp)


def _cross_validated_scores(
    x: sp.csr_matrix,
    labels: NDArray[np.intp],
    n_classes: int,
    config: TrainingConfig,
    step: Progress,
) -> NDArray[np.float64]:
    """Scores of every training row by a model that did not see it, to fit calibration on.

    The vectorizers were fitted on all rows: refitting them per fold costs as much as the
    folds themselves and barely moves the held-out scores.
    """
    folds = min(config.folds, int(np.bincount(labels).min()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    held_out = np.zeros((len(labels), n_classes))
    for n, (fit_rows, test_rows) in enumerate(splitter.split(np.zeros(len(labels)), labels), 1):
        step(f"calibration fold {n}/{folds}")
        svm = LinearSVC(C=config.c, random_state=config.seed).fit(x[fit_rows], labels[fit_rows])
        coef, intercept = _weights(svm)
        held_out[test_rows] = x[test_rows] @ coef + intercept
    return held_out


def _weights(svm: LinearSVC) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Weights (features by classes) and per-class biases; a binary SVM has one score (positive
    means the second class), split as ±score/2 so a softmax over two columns is its sigmoid."""
    coef = np.asarray(svm.coef_, dtype=np.float32).T
    intercept = np.asarray(svm.intercept_, dtype=np.float32)
    if coef.shape[1] == 1:
        coef = np.hstack([-coef, coef]) * np.float32(0.5)
        intercept = np.concatenate([-intercept, intercept]) * np.float32(0.5)
    return coef, intercept


def _top_two(probs: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Top probability and its margin over the second (training guarantees ≥ 2 classes)."""
    part = np.partition(probs, -2, axis=1)
    return part[:, -1], part[:, -1] - part[:, -2]
