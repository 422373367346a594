"""What events say about each object: small, JSON-ready, stable for integrators."""

from __future__ import annotations

from typing import Any

from carepath.domain.cases import Case
from carepath.domain.contacts import Contact
from carepath.domain.customers import Customer
from carepath.domain.journey import JourneyEvent
from carepath.domain.messages import Message


def case_payload(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "customer_id": case.customer_id,
        "status": case.status.value,
        "channel": case.channel.value,
        "intent": case.intent,
        "priority": case.priority.value,
        "assignee_id": case.assignee_id,
        "updated_at": case.updated_at.isoformat(),
    }


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "case_id": message.case_id,
        "customer_id": message.customer_id,
        "contact_id": message.contact_id,
        "channel": message.channel.value,
        "direction": message.direction.value,
        "author_kind": message.author_kind.value,
        "author_id": message.author_id,
        "is_internal_note": message.is_internal_note,
        "text": message.text,
        # The provider's id, or the client's own message id (the widget matches its outbox).
        "external_id": message.external_id,
        "created_at": message.created_at.isoformat(),
    }


def customer_payload(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "segment": customer.segment,
        "merged_into": customer.merged_into,
    }


def contact_payload(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.id,
        "case_id": contact.case_id,
        "customer_id": contact.customer_id,
        "channel": contact.channel.value,
        "started_at": contact.started_at.isoformat(),
    }


def journey_payload(event: JourneyEvent) -> dict[str, Any]:
    return {
        "journey_event_id": event.id,
        "customer_id": event.customer_id,
        "type": event.type.value,
        "name": event.name,
        "channel": event.channel.value,
        "occurred_at": event.occurred_at.isoformat(),
        "case_id": event.case_id,
    }
