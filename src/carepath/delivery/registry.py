"""The one list of outbox kinds and their handlers; each channel adds its delivery here."""

from __future__ import annotations

import httpx

from carepath import __version__
from carepath.actions.delivery import DELIVER_MESSAGE
from carepath.channels.email.sender import SmtpSender, SmtpServer
from carepath.channels.meta.sender import GraphClient, MetaMessagingSender, WhatsAppSender
from carepath.channels.twilio.calls_api import TwilioCalls
from carepath.channels.twilio.sender import TwilioSmsSender
from carepath.delivery.assistant import ASSISTANT_TURN, AssistantTurnHandler
from carepath.delivery.base import Handler
from carepath.delivery.calls import PLACE_CALL, PlaceCall
from carepath.delivery.messages import DELIVER_SURVEY, ChannelSender, DeliverMessage, DeliverSurvey
from carepath.delivery.webhooks import WebhookHandler
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage.repositories.events import WEBHOOK_KIND

HTTP_TIMEOUT_S = 10.0
USER_AGENT = f"carepath/{__version__}"


def http_client() -> httpx.AsyncClient:
    """The one outgoing HTTP client a worker shares between its handlers (connection reuse).

    Redirects are not followed: a signed delivery must reach the URL the admin registered.
    """
    return httpx.AsyncClient(
        timeout=HTTP_TIMEOUT_S, follow_redirects=False, headers={"User-Agent": USER_AGENT}
    )


def build_senders(settings: Settings, http: httpx.AsyncClient) -> dict[Channel, ChannelSender]:
    """Channel → sender. Each channel package adds its sender here."""
    status_url = settings.public_url.rstrip("/") + "/webhooks/twilio/{tenant}/sms/status"
    senders: dict[Channel, ChannelSender] = {
        Channel.SMS: TwilioSmsSender(
            http, base_url=settings.twilio_api_url, status_callback=status_url
        ),
        Channel.EMAIL: SmtpSender(
            SmtpServer.from_url(settings.smtp_url) if settings.smtp_url else None
        ),
    }
    graph = GraphClient(http, base_url=settings.graph_api_url, version=settings.graph_api_version)
    senders[Channel.WHATSAPP] = WhatsAppSender(graph)
    senders[Channel.MESSENGER] = MetaMessagingSender(graph, Channel.MESSENGER)
    senders[Channel.INSTAGRAM] = MetaMessagingSender(graph, Channel.INSTAGRAM)
    return senders


def build_handlers(settings: Settings, http: httpx.AsyncClient) -> dict[str, Handler]:
    """Outbox kind → handler. `settings` is for channels whose delivery needs configuration."""
    secret = settings.secret()
    return {
        WEBHOOK_KIND: WebhookHandler(http, allow_private=settings.webhook_allow_private_targets),
        DELIVER_MESSAGE: DeliverMessage(build_senders(settings, http), SecretBox(secret)),
        DELIVER_SURVEY: DeliverSurvey(secret=secret, public_url=settings.public_url),
        ASSISTANT_TURN: AssistantTurnHandler(settings.data_dir, http, settings.public_url),
        PLACE_CALL: PlaceCall(
            TwilioCalls(http, base_url=settings.twilio_api_url),
            SecretBox(secret),
            public_url=settings.public_url,
        ),
    }
