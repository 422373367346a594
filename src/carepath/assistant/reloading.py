"""A classifier that follows a model store's `current` pointer, swapping in new versions live."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from carepath.assistant.classifier import Prediction
from carepath.assistant.model_store import LoadedModel, ModelStore, PointerSignature

log = logging.getLogger("carepath.assistant")
DEFAULT_CHECK_EVERY_S = 5.0


class ReloadingClassifier:
    """Serves the store's current version and notices a new one without a restart.

    At most every `check_every_s` seconds a prediction stats the pointer file (one system call);
    only when it changed is the new version loaded — fully, beside the old one — and then
    swapped in with one reference assignment, so concurrent callers see the old model or the
    new one, never a half-built one. A version that fails to load is logged and the old one
    kept. The load happens in the calling thread: an async server can keep it off the event
    loop by calling `await refresh()` from a background task and `predict(..., check=False)`.
    """

    def __init__(
        self,
        store: ModelStore,
        *,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._check_every_s = check_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._signature = store.pointer_signature()
        self._failed: PointerSignature | None = None
        self._model = store.load_current()
        self._next_check = clock() + check_every_s

    @property
    def model(self) -> LoadedModel:
        return self._model

    @property
    def version(self) -> str:
        return self._model.version

    def predict(self, text: str, *, check: bool = True) -> Prediction:
        if check:
            self.maybe_reload()
        return self._model.classifier.predict(text)

    def maybe_reload(self) -> bool:
        """Reload if the check interval has passed and the pointer moved; True if swapped."""
        if self._clock() < self._next_check:
            return False
        # Another thread already checking (or loading) is enough; its swap serves us too.
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._next_check = self._clock() + self._check_every_s
            return self._reload_if_moved()
        finally:
            self._lock.release()

    async def refresh(self) -> bool:
        return await asyncio.to_thread(self.maybe_reload)

    def _reload_if_moved(self) -> bool:
        signature = self._store.pointer_signature()
        if signature is None or signature in (self._signature, self._failed):
            return False
        try:
            version = self._store.current_version()
            if version == self._model.version:
                self._signature = signature
                return False
            fresh = self._store.load(version)
        except Exception:  # a bad new version must not stop serving with the good old one
            log.exception("keeping model %s: could not load the new current version", self.version)
            self._failed = signature  # log once; a new pointer write is tried again
            return False
        previous, self._model, self._signature = self._model.version, fresh, signature
        log.info("intent model %s replaced by %s", previous, fresh.version)
        return True
