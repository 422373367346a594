"""The virtual assistant: the per-tenant intent classifier, its model store and evaluation."""

from __future__ import annotations

from carepath.assistant.classifier import (
    IntentClassifier,
    Prediction,
    TrainingConfig,
    TrainingSummary,
)
from carepath.assistant.evaluation import EvaluationReport, evaluate
from carepath.assistant.features import Embedder, FeatureConfig, load_sentence_embedder
from carepath.assistant.model_store import LoadedModel, Manifest, ModelStore, open_model
from carepath.assistant.reloading import ReloadingClassifier
from carepath.assistant.thresholds import ThresholdChoice, ThresholdObjective, Thresholds
from carepath.assistant.training_data import (
    OUT_OF_SCOPE,
    DataFormat,
    Example,
    TrainingData,
    examples_from_pairs,
    load_examples,
)

__all__ = [
    "OUT_OF_SCOPE",
    "DataFormat",
    "Embedder",
    "EvaluationReport",
    "Example",
    "FeatureConfig",
    "IntentClassifier",
    "LoadedModel",
    "Manifest",
    "ModelStore",
    "Prediction",
    "ReloadingClassifier",
    "ThresholdChoice",
    "ThresholdObjective",
    "Thresholds",
    "TrainingConfig",
    "TrainingData",
    "TrainingSummary",
    "evaluate",
    "examples_from_pairs",
    "load_examples",
    "load_sentence_embedder",
    "open_model",
]
