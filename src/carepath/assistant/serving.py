"""Per-tenant models: each tenant's classifier lives in `DATA_DIR/models/<tenant_id>/` (a model
store); a worker serves them with one lazily opened ReloadingClassifier per tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from carepath.assistant.classifier import IntentClassifier, Prediction
from carepath.assistant.model_store import Manifest, ModelStore
from carepath.assistant.reloading import ReloadingClassifier
from carepath.assistant.training_data import OUT_OF_SCOPE, examples_from_pairs
from carepath.errors import InvalidInput
from carepath.tenant_config import TenantConfig

MIN_EXAMPLES = 2


def tenant_store(data_dir: Path, tenant_id: str) -> ModelStore:
    return ModelStore(data_dir / "models" / tenant_id)


class TenantModels:
    """One ReloadingClassifier per tenant, opened on its first message. A tenant without a
    model yet is looked for again on each call (one stat), so a first training is picked up
    without a restart."""

    def __init__(self, data_dir: Path, *, check_every_s: float = 5.0) -> None:
        self.data_dir = data_dir
        self.check_every_s = check_every_s
        self._served: dict[str, ReloadingClassifier] = {}
        self._lock = asyncio.Lock()

    async def predict(self, tenant_id: str, text: str) -> Prediction | None:
        """The tenant's prediction, or None when it has no model."""
        served = await self._classifier(tenant_id)
        if served is None:
            return None
        # Loading a new version takes a while: off the event loop, then a cheap predict.
        await served.refresh()
        return served.predict(text, check=False)

    async def _classifier(self, tenant_id: str) -> ReloadingClassifier | None:
        served = self._served.get(tenant_id)
        if served is not None:
            return served
        store = tenant_store(self.data_dir, tenant_id)
        if store.pointer_signature() is None:
            return None
        async with self._lock:
            served = self._served.get(tenant_id)
            if served is None:
                served = await asyncio.to_thread(
                    ReloadingClassifier, store, check_every_s=self.check_every_s
                )
                self._served[tenant_id] = served
        return served


def train_from_config(
    data_dir: Path, tenant_id: str, config: TenantConfig, *, extra: Sequence[tuple[str, str]] = ()
) -> Manifest:
    """Train a new version from the config's intent examples (an intent named `oos` gives
    out-of-scope examples) and make it current for the tenant."""
    pairs = [(text, intent.name) for intent in config.intents for text in intent.examples]
    pairs += list(extra)
    usable = {i.name for i in config.intents if len(i.examples) >= MIN_EXAMPLES} - {OUT_OF_SCOPE}
    if len(usable) < MIN_EXAMPLES:
        raise InvalidInput(
            "training needs at least 2 intents with at least 2 examples each under "
            "intents[].examples in the tenant configuration",
            field="intents",
        )
    examples = examples_from_pairs(pairs)
    model = IntentClassifier.train(examples)
    summary = {"source": "tenant config", "rows": len(examples), "intents": sorted(usable)}
    return tenant_store(data_dir, tenant_id).save(model, training_data=summary)
