"""Ingest's reads for a whole write batch at once: one statement per kind instead of per message.

Each message of a returning customer reads its identity and owner, the owner's merge cluster,
the cluster's latest case, that case's open contact on the message's channel and its open work.
In a batch of several messages (storage/write_batches.py) `preload_for_ingest` makes each of
those reads once for all of them, in that order (each needs the one before), and leaves the
answers in the repositories, where each message's own first read of them finds them. What it
does not foresee (a merged owner's survivor, a case the message names, a survey) each message
still reads itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from carepath.domain.cases import Case
from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer
from carepath.domain.messages import InboundMessage
from carepath.storage import UnitOfWork


async def preload_for_ingest(uow: UnitOfWork, inbounds: Sequence[InboundMessage]) -> None:
    refs = [(m.tenant_id, ref.kind, ref.value) for m in inbounds for ref in m.identities]
    found = await uow.identities.preload_with_owners(refs)
    owners: list[tuple[Customer, Channel]] = []
    for inbound in inbounds:
        # As ingest resolves it: the owner of the first identity found.
        hits = (found.get((inbound.tenant_id, ref.kind, ref.value)) for ref in inbound.identities)
        owner = next((hit[1] for hit in hits if hit is not None), None)
        # A merged owner's survivor is read by the message itself (rare).
        if owner is not None and owner.merged_into is None:
            owners.append((owner, inbound.channel))
    clusters = await uow.customers.preload_clusters((o.tenant_id, o.id) for o, _ in owners)
    latest = await uow.cases.preload_latest((t, ids) for (t, _), ids in clusters.items())
    cases: list[tuple[Case, Channel]] = []
    for owner, channel in owners:
        cluster = frozenset(clusters[(owner.tenant_id, owner.id)])
        if (case := latest.get((owner.tenant_id, cluster))) is not None:
            cases.append((case, channel))
    await uow.contacts.preload_latest_open((c.tenant_id, c.id, channel) for c, channel in cases)
    await uow.work.preload_open_for_cases((c.tenant_id, c.id) for c, _ in cases)
