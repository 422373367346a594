"""Versioned model directories: `DIR/versions/<version>/` (model + manifest) and a `DIR/current`
pointer file, replaced atomically, naming the version that serving should use.

Models are joblib (pickle) files of scikit-learn objects: loading one can run arbitrary code, so
only load model directories that you or your own training pipeline wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from carepath import __version__
from carepath.assistant.classifier import IntentClassifier
from carepath.assistant.features import Embedder
from carepath.assistant.thresholds import Thresholds
from carepath.errors import InvalidInput, NotFound

MANIFEST = "manifest.json"
MODEL = "model.joblib"
CURRENT = "current"
VERSIONS = "versions"
MANIFEST_FORMAT = 1
VERSION_PATTERN = re.compile(r"v\d{8}-\d{6}-[0-9a-f]{8}")


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a version is: when and from what it was trained, its classes, thresholds, metrics.

    The thresholds here are the ones serving applies (the model file holds none)."""

    version: str
    created_at: str
    training_data: dict[str, Any]
    classes: list[str]
    thresholds: Thresholds
    temperature: float
    config: dict[str, Any]
    model_sha256: str
    sklearn_version: str
    carepath_version: str
    validation_data: dict[str, Any] | None = None
    threshold_tuning: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    embeddings: str | None = None
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if data.get("format") != MANIFEST_FORMAT:
            raise InvalidInput(f"unknown model manifest format {data.get('format')!r}")
        data["thresholds"] = Thresholds(**data["thresholds"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    manifest: Manifest
    classifier: IntentClassifier

    @property
    def version(self) -> str:
        return self.manifest.version


PointerSignature = tuple[int, int, int]


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        return self.root / CURRENT

    def save(
        self,
        classifier: IntentClassifier,
        *,
        training_data: dict[str, Any],
        validation_data: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        activate: bool = True,
        now: datetime | None = None,
    ) -> Manifest:
        """Write a new version; the directory appears whole (renamed into place) or not at all."""
        versions = self.root / VERSIONS
        versions.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=versions))
        try:
            staging.chmod(0o755)  # mkdtemp's 0700 would hide it from a server run as another user
            joblib.dump(classifier.state(), staging / MODEL)
            digest = _sha256(staging / MODEL)
            created = (now or datetime.now(UTC)).astimezone(UTC)
            manifest = Manifest(
                version=f"v{created:%Y%m%d-%H%M%S}-{digest[:8]}",
                created_at=created.isoformat(timespec="seconds").replace("+00:00", "Z"),
                training_data=training_data,
                validation_data=validation_data,
                classes=classifier.classes,
                thresholds=classifier.thresholds,
                threshold_tuning=classifier.tuning.to_dict() if classifier.tuning else None,
                temperature=classifier.temperature,
                config=classifier.config.to_dict(),
                metrics=metrics or {},
                embeddings=classifier.features.embedder.source
                if classifier.features.embedder
                else None,
                model_sha256=digest,
                sklearn_version=sklearn.__version__,
                carepath_version=__version__,
            )
            (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            target = versions / manifest.version
            if target.exists():  # the same bytes trained in the same second: already stored
                shutil.rmtree(staging)
            else:
                staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if activate:
            self.activate(manifest.version)
        return manifest

    def activate(self, version: str) -> None:
        """Point `current` at a stored version (also how to roll back): write then rename."""
        if (
            not VERSION_PATTERN.fullmatch(version)
            or not (self.root / VERSIONS / version / MANIFEST).is_file()
        ):
            raise NotFound(f"{self.root}: no model version {version!r}", version=version)
        fd, tmp = tempfile.mkstemp(prefix=".current-", dir=self.root)
        try:
            os.fchmod(fd, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(version + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.pointer)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def versions(self) -> list[str]:
        folder = self.root / VERSIONS
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / MANIFEST).is_file())

    def current_version(self) -> str:
        try:
            version = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise NotFound(
                f"{self.root}: no trained model here (no `{CURRENT}` file); "
                "run `carepath assistant train --out` with this directory first",
                path=str(self.root),
            ) from None
        if not VERSION_PATTERN.fullmatch(version):
            raise InvalidInput(
                f"{self.pointer}: {version[:80]!r} is not a model version name", path=str(self.root)
            )
        return version

    def pointer_signature(self) -> PointerSignature | None:
        """A cheap fingerprint of the pointer file: one stat, no read."""
        try:
            st = os.stat(self.pointer)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def manifest(self, version: str) -> Manifest:
        return _read_manifest(self.root / VERSIONS / version)

    def load(self, version: str, embedder: Embedder | None = None) -> LoadedModel:
        return load_version_dir(self.root / VERSIONS / version, embedder)

    def load_current(self, embedder: Embedder | None = None) -> LoadedModel:
        return self.load(self.current_version(), embedder)


def open_model(path: Path, embedder: Embedder | None = None) -> LoadedModel:
    """A store's current version, or one version directory given directly."""
    if (path / MANIFEST).is_file():
        return load_version_dir(path, embedder)
    return ModelStore(path).load_current(embedder)


def load_version_dir(folder: Path, embedder: Embedder | None = None) -> LoadedModel:
    manifest = _read_manifest(folder)
    model_file = folder / MODEL
    if _sha256(model_file) != manifest.model_sha256:
        raise InvalidInput(
            f"{model_file}: does not match the sha256 in its manifest; the model is damaged",
            path=str(model_file),
        )
    state = joblib.load(model_file)
    classifier = IntentClassifier.from_state(state, manifest.thresholds, embedder)
    return LoadedModel(manifest=manifest, classifier=classifier)


def _read_manifest(folder: Path) -> Manifest:
    try:
        return Manifest.from_json((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"{folder}: not a model version (no {MANIFEST})", path=str(folder)) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
