"""What one running app holds: settings, the database, the signer, the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from itsdangerous import TimestampSigner

from carepath.channels.widget.limits import VisitorLimits
from carepath.realtime import Doorbell, EventFeed
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.web.metrics import RequestMetrics
from carepath.web.webhook_accounts import WebhookAccounts


@dataclass
class AppState:
    settings: Settings
    db: Database
    session_signer: TimestampSigner
    metrics: RequestMetrics
    doorbell: Doorbell
    secret_box: SecretBox
    # Per process: the SMS webhook's tenant and number, kept a short while (webhook_accounts.py).
    webhook_accounts: WebhookAccounts = field(default_factory=lambda: WebhookAccounts(0))
    # Per process: see channels/widget/limits.py.
    visitor_limits: VisitorLimits = field(default_factory=VisitorLimits)
    # Per process: one read of new events for all of a tenant's streams (realtime/feed.py).
    event_feed: EventFeed | None = None

    def feed(self) -> EventFeed:
        if self.event_feed is None:
            self.event_feed = EventFeed(self.db)
        return self.event_feed
