"""Background deliveries done by the outbox worker: webhooks now, channel messages later."""

from carepath.delivery.base import Handler, HandlerContext
from carepath.delivery.registry import USER_AGENT, build_handlers, http_client
from carepath.delivery.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    WebhookHandler,
    webhook_body,
)

__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "USER_AGENT",
    "Handler",
    "HandlerContext",
    "WebhookHandler",
    "build_handlers",
    "http_client",
    "webhook_body",
]
