"""Text → feature blocks: TF-IDF word and character n-grams, plus optional sentence embeddings."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from carepath.errors import ConfigurationError

# Keeps one-letter words ("i", "a") that sklearn's default pattern drops: they carry intent
# ("can i…" vs "can someone…") and measured +0.15 to +0.35 points on Banking77 and CLINC150.
TOKEN_PATTERN = r"(?u)\b\w+\b"  # noqa: S105 - a regular expression, not a password

Matrix: TypeAlias = "sp.csr_matrix | NDArray[np.float32]"
SparseRow: TypeAlias = tuple[NDArray[np.intp], NDArray[np.float32]]


class Embedder(Protocol):
    """Turns texts into dense vectors; `source` says where the model came from (a local path)."""

    @property
    def source(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    embedding_weight: float = 1.0


class TextFeatures:
    """Fitted vectorizers; `blocks()` returns one matrix per block so that a linear model's
    weights can be applied block by block (cheaper than stacking for a single message)."""

    def __init__(self, config: FeatureConfig, embedder: Embedder | None = None) -> None:
        self.config = config
        self.embedder = embedder
        self.word = TfidfVectorizer(
            ngram_range=config.word_ngrams,
            token_pattern=TOKEN_PATTERN,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=config.char_ngrams, sublinear_tf=True, dtype=np.float32
        )
        self._fast: list[FastTfidf] = []

    def fit_blocks(self, texts: Sequence[str]) -> list[Matrix]:
        blocks: list[Matrix] = [self.word.fit_transform(texts), self.char.fit_transform(texts)]
        self._fast = [FastTfidf(self.word), FastTfidf(self.char)]
        return blocks + self._embedded(texts)

    def one(self, text: str) -> tuple[list[SparseRow], NDArray[np.float32] | None]:
        """One text's TF-IDF rows (indices, values) and its embedding block, if any."""
        rows = [fast(text) for fast in self._fast]
        embedding = self._embedded([text])[0][0] if self.embedder else None
        return rows, embedding

    def blocks(self, texts: Sequence[str]) -> list[Matrix]:
        blocks: list[Matrix] = [self.word.transform(texts), self.char.transform(texts)]
        return blocks + self._embedded(texts)

    def _embedded(self, texts: Sequence[str]) -> list[Matrix]:
        if self.embedder is None:
            return []
        vectors = np.asarray(self.embedder.encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # Unit length, like the TF-IDF blocks, so the weight alone sets the block's influence.
        scaled = vectors / np.maximum(norms, 1e-12) * self.config.embedding_weight
        return [scaled.astype(np.float32)]

    def state(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "char": self.char,
            "embeddings": self.embedder.source if self.embedder else None,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], config: FeatureConfig, embedder: Embedder | None
    ) -> TextFeatures:
        if state["embeddings"] and embedder is None:
            embedder = load_sentence_embedder(Path(state["embeddings"]))
        features = cls(config, embedder)
        features.word = state["word"]
        features.char = state["char"]
        features._fast = [FastTfidf(features.word), FastTfidf(features.char)]
        return features


class FastTfidf:
    """One text → the (indices, values) of the row the fitted TfidfVectorizer would produce.

    Serving scores one message at a time, where sklearn's per-call overhead is most of the
    work: this is ~8x faster, and a test holds it equal to `transform`.
    """

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            raise ValueError("FastTfidf supports sublinear_tf, use_idf and l2 norm only")
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float32)

    def __call__(self, text: str) -> SparseRow:
        counts: dict[int, int] = {}
        for term in self._analyze(text):
            column = self._vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (np.float32(1.0) + np.log(tf)) * self._idf[columns]
        norm = np.float32(np.linalg.norm(values))
        return columns, values / norm if norm > 0 else values


def stack(blocks: Sequence[Matrix]) -> sp.csr_matrix:
    return sp.hstack([sp.csr_matrix(b) for b in blocks], format="csr")


class SentenceEmbedder:
    """A sentence-transformers model read from a local directory; never downloads anything."""

    def __init__(self, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self._path = path
        self._model = SentenceTransformer(str(path), local_files_only=True)

    @property
    def source(self) -> str:
        return str(self._path)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        vectors = self._model.encode(list(texts), convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def load_sentence_embedder(path: Path) -> SentenceEmbedder:
    """Open a local sentence-embedding model, or say exactly why it cannot be used."""
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigurationError(
            "sentence-embedding features need the `sentence-transformers` package, which is not "
            "installed; install it (`pip install sentence-transformers`) or train without "
            "--embeddings",
            path=str(path),
        )
    if not path.is_dir():
        raise ConfigurationError(
            f"{path}: not a directory; --embeddings takes the folder of a sentence-transformers "
            "model saved on this machine (it is never downloaded)",
            path=str(path),
        )
    try:
        return SentenceEmbedder(path)
    except Exception as exc:  # the library raises many kinds; the user needs the message
        raise ConfigurationError(
            f"{path}: cannot load a sentence-transformers model: {exc}", path=str(path)
        ) from exc
