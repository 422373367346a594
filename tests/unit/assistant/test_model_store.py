"""Model versions on disk, the `current` pointer, and reloading a new version while serving."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carepath.assistant import (
    IntentClassifier,
    ModelStore,
    ReloadingClassifier,
    open_model,
)
from carepath.errors import InvalidInput, NotFound
from tests.unit.assistant.examples import (
    GIBBERISH,
    training_examples,
    validation_examples,
)

PROBES = [e.text for e in validation_examples()] + GIBBERISH
DATA = {"source": "in-test", "sha256": "0" * 64, "examples": 60}


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier.train(training_examples(), validation=validation_examples())


@pytest.fixture(scope="module")
def other_classifier() -> IntentClassifier:
    """A model without the change_address intent, so that its answers visibly differ."""
    extra = [e for e in training_examples() if e.intent != "change_address"]
    return IntentClassifier.train(extra)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_save_then_load_gives_identical_predictions(
    tmp_path: Path, classifier: IntentClassifier
) -> None:
    # given a trained model saved to a store
    store = ModelStore(tmp_path / "model")
    manifest = store.save(classifier, training_data=DATA, metrics={"accuracy": 1.0})
    # when the current version is loaded back
    loaded = store.load_current()
    # then it answers exactly as the original, with the same thresholds
    assert loaded.version == manifest.version
    assert loaded.classifier.thresholds == classifier.thresholds
    assert loaded.classifier.predict_many(PROBES) == classifier.predict_many(PROBES)
    assert [loaded.classifier.predict(t) for t in PROBES] == [classifier.predict(t) for t in PROBES]


def test_the_manifest_describes_the_version(tmp_path: Path, classifier: IntentClassifier) -> None:
    # given a model saved at a known time
    store = ModelStore(tmp_path)
    at = datetime(2026, 11, 22, 15, 30, 0, tzinfo=UTC)
    manifest = store.save(classifier, training_data=DATA, metrics={"accuracy": 1.0}, now=at)
    # when its manifest.json is read as plain JSON
    folder = tmp_path / "versions" / manifest.version
    on_disk = json.loads((folder / "manifest.json").read_text())
    # then it names the version, time, data, classes, thresholds, metrics and library versions
    assert manifest.version.startswith("v20261122-153000-")
    assert manifest.version[-8:] == on_disk["model_sha256"][:8]
    assert on_disk["created_at"] == "2026-11-22T15:30:00Z"
    assert on_disk["training_data"] == DATA
    assert on_disk["classes"] == sorted(
        ["card_arrival", "refund_not_received", "cancel_subscription", "change_address"]
    )
    assert on_disk["thresholds"] == {
        "confidence": classifier.thresholds.confidence,
        "margin": classifier.thresholds.margin,
    }
    assert on_disk["threshold_tuning"]["oos_rows"] == 6
    assert on_disk["metrics"] == {"accuracy": 1.0}
    assert on_disk["sklearn_version"]
    assert (tmp_path / "current").read_text().strip() == manifest.version


def test_versions_accumulate_and_activate_rolls_back(
    tmp_path: Path, classifier: IntentClassifier, other_classifier: IntentClassifier
) -> None:
    # given two versions saved one after the other
    store = ModelStore(tmp_path)
    first = store.save(classifier, training_data=DATA)
    second = store.save(other_classifier, training_data=DATA)
    assert store.versions() == sorted([first.version, second.version])
    assert store.current_version() == second.version
    # when the first is activated again
    store.activate(first.version)
    # then it is current, and unknown versions are refused
    assert store.load_current().version == first.version
    with pytest.raises(NotFound):
        store.activate("v20990101-000000-deadbeef")
    with pytest.raises(NotFound):
        store.activate("../../etc")


def test_saving_without_activating_leaves_current_alone(
    tmp_path: Path, classifier: IntentClassifier, other_classifier: IntentClassifier
) -> None:
    store = ModelStore(tmp_path)
    first = store.save(classifier, training_data=DATA)
    second = store.save(other_classifier, training_data=DATA, activate=False)
    assert store.current_version() == first.version
    assert second.version in store.versions()


def test_open_model_takes_a_store_or_one_version_folder(
    tmp_path: Path, classifier: IntentClassifier
) -> None:
    manifest = ModelStore(tmp_path).save(classifier, training_data=DATA)
    assert open_model(tmp_path).version == manifest.version
    assert open_model(tmp_path / "versions" / manifest.version).version == manifest.version


def test_an_empty_directory_says_to_train_first(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="run `carepath assistant train"):
        ModelStore(tmp_path).load_current()


def test_a_damaged_model_file_is_detected(tmp_path: Path, classifier: IntentClassifier) -> None:
    # given a stored version whose model file was changed after saving
    manifest = ModelStore(tmp_path).save(classifier, training_data=DATA)
    model_file = tmp_path / "versions" / manifest.version / "model.joblib"
    model_file.write_bytes(model_file.read_bytes()[:-10])
    # when loaded, then the sha256 check refuses it before unpickling
    with pytest.raises(InvalidInput, match="damaged"):
        ModelStore(tmp_path).load_current()


def test_a_garbled_pointer_is_refused(tmp_path: Path, classifier: IntentClassifier) -> None:
    ModelStore(tmp_path).save(classifier, training_data=DATA)
    (tmp_path / "current").write_text("../../somewhere\n")
    with pytest.raises(InvalidInput, match="not a model version name"):
        ModelStore(tmp_path).load_current()


def test_the_reloading_classifier_picks_up_a_new_version_without_restart(
    tmp_path: Path, classifier: IntentClassifier, other_classifier: IntentClassifier
) -> None:
    # given a server answering with version 1, checking the pointer every 5 seconds
    store = ModelStore(tmp_path)
    first = store.save(classifier, training_data=DATA)
    clock = Clock()
    serving = ReloadingClassifier(store, check_every_s=5.0, clock=clock)
    assert serving.predict("update my home address").intent == "change_address"
    # when a newly trained version 2 becomes current
    second = store.save(other_classifier, training_data=DATA)
    # then it is not looked at before the interval has passed
    clock.now += 4.0
    assert serving.predict("update my home address").intent == "change_address"
    assert serving.version == first.version
    # and after it, the next prediction comes from version 2
    clock.now += 1.5
    answer = serving.predict("update my home address")
    assert serving.version == second.version
    assert answer == other_classifier.predict("update my home address")


def test_a_version_that_fails_to_load_keeps_the_old_one_serving(
    tmp_path: Path,
    classifier: IntentClassifier,
    other_classifier: IntentClassifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a server on version 1
    store = ModelStore(tmp_path)
    first = store.save(classifier, training_data=DATA)
    clock = Clock()
    serving = ReloadingClassifier(store, check_every_s=1.0, clock=clock)
    # when version 2 becomes current but its model file is damaged
    second = store.save(other_classifier, training_data=DATA)
    model_file = tmp_path / "versions" / second.version / "model.joblib"
    model_file.write_bytes(b"not a model")
    clock.now += 2
    with caplog.at_level(logging.ERROR, logger="carepath.assistant"):
        reloaded = serving.maybe_reload()
    # then version 1 keeps answering, and the failure is logged
    assert not reloaded
    assert serving.version == first.version
    assert serving.predict("where is my card").intent == "card_arrival"
    assert "could not load" in caplog.text


def test_predictions_from_many_threads_survive_a_swap(
    tmp_path: Path, classifier: IntentClassifier, other_classifier: IntentClassifier
) -> None:
    # given a server checking the pointer on every prediction, used by four threads
    store = ModelStore(tmp_path)
    store.save(classifier, training_data=DATA)
    serving = ReloadingClassifier(store, check_every_s=0.0)
    errors: list[BaseException] = []
    intents: set[str | None] = set()
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                intents.add(serving.predict("update my home address").intent)
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    # when a new version becomes current while they run
    second = store.save(other_classifier, training_data=DATA)
    deadline = threading.Event()
    for _ in range(200):
        if serving.version == second.version:
            break
        deadline.wait(0.05)
    stop.set()
    for t in threads:
        t.join()
    # then every call got an answer, from one version or the other, and the new one won
    assert errors == []
    assert serving.version == second.version
    assert "change_address" in intents


async def test_refresh_loads_off_the_event_loop(
    tmp_path: Path, classifier: IntentClassifier, other_classifier: IntentClassifier
) -> None:
    # given an async server that checks from a background task and predicts without checking
    store = ModelStore(tmp_path)
    store.save(classifier, training_data=DATA)
    serving = ReloadingClassifier(store, check_every_s=0.0)
    second = store.save(other_classifier, training_data=DATA)
    # when the task refreshes
    swapped = await serving.refresh()
    # then the new version serves
    assert swapped
    assert serving.version == second.version
    assert serving.predict("cancel my plan", check=False).intent == "cancel_subscription"
