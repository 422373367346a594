"""The intent classifier on a small set written here: training, prediction, out-of-scope."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from carepath.assistant import (
    OUT_OF_SCOPE,
    Example,
    FeatureConfig,
    IntentClassifier,
    ThresholdObjective,
    Thresholds,
    TrainingConfig,
)
from carepath.errors import InvalidInput
from tests.unit.assistant.examples import (
    GIBBERISH,
    INTENTS,
    training_examples,
    validation_examples,
)


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier.train(training_examples(), validation=validation_examples())


def test_it_recognises_new_phrasings_of_each_intent(classifier: IntentClassifier) -> None:
    # given a classifier trained on four intents
    messages = {
        "my refund has not arrived": "refund_not_received",
        "where is my card": "card_arrival",
        "cancel my plan": "cancel_subscription",
        "please change my address": "change_address",
    }
    # when it classifies phrasings it was not trained on
    predicted = {text: classifier.predict(text) for text in messages}
    # then each gets its intent with a probability, best alternative first
    for text, intent in messages.items():
        prediction = predicted[text]
        assert prediction.intent == intent, (text, prediction)
        assert prediction.alternatives[0][0] == intent
        assert 0.5 < prediction.confidence <= 1.0
        assert prediction.margin == pytest.approx(
            prediction.alternatives[0][1] - prediction.alternatives[1][1]
        )
        assert len(prediction.alternatives) == 3


def test_tuned_thresholds_route_gibberish_and_unrelated_text_out_of_scope(
    classifier: IntentClassifier,
) -> None:
    # given thresholds tuned on validation rows that include out-of-scope messages
    assert classifier.tuning is not None
    assert classifier.tuning.oos_rows > 0
    assert classifier.thresholds.confidence > 0 or classifier.thresholds.margin > 0
    # when it sees gibberish and questions about something else entirely
    predictions = [classifier.predict(text) for text in GIBBERISH]
    # then none is given an intent, yet each still says what it came closest to
    assert all(p.out_of_scope and p.intent is None for p in predictions)
    assert all(p.alternatives[0][0] in INTENTS for p in predictions)


def test_without_thresholds_everything_gets_an_intent(classifier: IntentClassifier) -> None:
    # given the same model with the out-of-scope thresholds switched off
    closed = classifier.with_thresholds(Thresholds())
    # when it sees gibberish
    prediction = closed.predict(GIBBERISH[0])
    # then it is forced into some intent, and the original still rejects it
    assert prediction.intent in INTENTS
    assert classifier.predict(GIBBERISH[0]).out_of_scope


def test_batch_and_single_predictions_agree(classifier: IntentClassifier) -> None:
    # given messages in and out of scope
    texts = [e.text for e in validation_examples()] + GIBBERISH + ["", "!!!"]
    # when they are predicted one by one (the fast serving path) and as a batch
    single = [classifier.predict(t) for t in texts]
    batch = classifier.predict_many(texts)
    # then the answers are the same
    for one, many in zip(single, batch, strict=True):
        assert one.intent == many.intent
        assert one.confidence == pytest.approx(many.confidence, abs=1e-5)
        assert [a for a, _ in one.alternatives] == [a for a, _ in many.alternatives]


def test_training_is_deterministic_given_a_seed() -> None:
    # given the same examples and seed
    config = TrainingConfig(seed=7)
    # when trained twice
    first = IntentClassifier.train(training_examples(), config=config)
    second = IntentClassifier.train(training_examples(), config=config)
    # then the models give identical answers
    texts = [e.text for e in validation_examples()]
    assert first.temperature == second.temperature
    assert first.thresholds == second.thresholds
    assert first.predict_many(texts) == second.predict_many(texts)


def test_without_validation_oos_training_rows_set_the_thresholds() -> None:
    # given training data whose `oos` rows are examples of out-of-scope messages
    examples = training_examples() + [
        Example(text, OUT_OF_SCOPE)
        for text in ["what time is it in Tokyo", "sing me a song", "zzkq wplf", "book a flight"]
    ]
    # when trained without a validation set
    model = IntentClassifier.train(examples, objective=ThresholdObjective(min_oos_recall=0.75))
    # then oos is not a class, and the thresholds were chosen to reject them
    assert OUT_OF_SCOPE not in model.classes
    assert model.tuning is not None
    assert model.tuning.oos_rows == 4
    assert model.tuning.oos_recall is not None
    assert model.tuning.oos_recall >= 0.75
    assert model.summary is not None
    assert model.summary.held_out == "cross-validation"


def test_without_any_oos_rows_the_least_confident_two_percent_are_rejected() -> None:
    # given only in-scope training rows and no validation
    model = IntentClassifier.train(training_examples())
    # then the rule used says so and the confidence threshold is positive
    assert model.tuning is not None
    assert model.tuning.oos_recall is None
    assert "no oos rows" in model.tuning.rule
    assert model.thresholds.confidence > 0
    assert model.thresholds.margin == 0


def test_two_intents_are_enough() -> None:
    # given a binary problem
    examples = [e for e in training_examples() if e.intent in {"card_arrival", "change_address"}]
    # when trained
    model = IntentClassifier.train(examples)
    # then probabilities are over both intents and sum to one
    prediction = model.with_thresholds(Thresholds()).predict("my card never arrived")
    assert prediction.intent == "card_arrival"
    assert sum(p for _, p in prediction.alternatives) == pytest.approx(1.0)
    assert len(prediction.alternatives) == 2


def test_an_intent_with_one_example_is_refused() -> None:
    # given an intent with a single example
    examples = [*training_examples(), Example("hello there", "greeting")]
    # when training
    with pytest.raises(InvalidInput, match="at least 2 examples") as caught:
        IntentClassifier.train(examples)
    # then the error names the intent
    assert caught.value.data["intents"] == ["greeting"]


def test_one_intent_is_not_a_classifier() -> None:
    examples = [e for e in training_examples() if e.intent == "card_arrival"]
    with pytest.raises(InvalidInput, match="at least 2 intents"):
        IntentClassifier.train(examples)


def test_validation_intents_must_be_known() -> None:
    # given validation rows with an intent that is not in training (a typo, say)
    validation = [*validation_examples(), Example("where is my card", "card_arival")]
    # when training, then the typo is named
    with pytest.raises(InvalidInput, match="card_arival"):
        IntentClassifier.train(training_examples(), validation=validation)


class HashedBagOfWords:
    """A tiny real embedder: each word lands in one of 32 dimensions."""

    source = "in-test hashed bag of words"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 32), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, sum(map(ord, word)) % 32] += 1.0
        return out


def test_embedding_features_join_the_tfidf_blocks() -> None:
    # given an embedder that adds 32 dense features
    config = TrainingConfig(features=FeatureConfig(embedding_weight=0.5))
    # when trained with it
    model = IntentClassifier.train(
        training_examples(), validation=validation_examples(), config=config,
        embedder=HashedBagOfWords(),
    )  # fmt: skip
    # then it predicts, one by one and in batches alike, and remembers where embeddings came from
    texts = ["where is my refund", "change my address", *GIBBERISH]
    single = [model.predict(t) for t in texts]
    assert single[0].intent == "refund_not_received"
    assert [p.intent for p in single] == [p.intent for p in model.predict_many(texts)]
    assert model.state()["features"]["embeddings"] == HashedBagOfWords.source


def test_the_fast_single_message_features_equal_sklearns(classifier: IntentClassifier) -> None:
    # given texts with known words, unknown words, repeats, punctuation and nothing at all
    texts = ["where is my card card card", "Zzyzx qwv!", "", "   ", "refund? REFUND."]
    for text in texts:
        # when one text goes through the serving path and through TfidfVectorizer.transform
        fast = classifier.features.one(text)[0]
        reference = classifier.features.blocks([text])[:2]
        # then both give the same sparse row for the word and the char block
        for (columns, values), matrix in zip(fast, reference, strict=True):
            row = sp.csr_matrix(matrix)
            expected = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
            got = dict(zip(columns.tolist(), values.tolist(), strict=True))
            assert got.keys() == expected.keys(), text
            assert np.allclose([got[k] for k in expected], list(expected.values()), atol=1e-6)
