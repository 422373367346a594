"""Meta's messaging channels: WhatsApp (Cloud API), Messenger and Instagram: webhook signatures
and handshake, parsing, and sending through the Graph API."""

from carepath.channels.meta.messenger import MessagingBatch, parse_messaging_webhook
from carepath.channels.meta.sender import GraphClient, MetaMessagingSender, WhatsAppSender
from carepath.channels.meta.signature import (
    SIGNATURE_HEADER,
    answer_challenge,
    sign,
    verify_signature,
)
from carepath.channels.meta.whatsapp import WhatsAppBatch, parse_whatsapp_webhook

__all__ = [
    "SIGNATURE_HEADER",
    "GraphClient",
    "MessagingBatch",
    "MetaMessagingSender",
    "WhatsAppBatch",
    "WhatsAppSender",
    "answer_challenge",
    "parse_messaging_webhook",
    "parse_whatsapp_webhook",
    "sign",
    "verify_signature",
]
