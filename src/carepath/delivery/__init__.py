"""Background deliveries done by the outbox worker: the handler contract, webhooks, channel
messages and surveys. The composition (which handler and sender for what) is
`carepath.delivery.registry`, imported directly: it depends on every channel package, which in
turn depend on this package's contract."""

from carepath.delivery.base import Handler, HandlerContext
from carepath.delivery.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    WebhookHandler,
    webhook_body,
)

__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "Handler",
    "HandlerContext",
    "WebhookHandler",
    "webhook_body",
]
