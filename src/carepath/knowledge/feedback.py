"""Helpful / not helpful votes from public pages: a signed token per page, and a per-IP limit.

The vote form needs no session and no CSRF cookie: the token (signed with the server key, a day
long) names the article and the search it came from, so a vote cannot be aimed at another
article or tenant, and all a forged cross-site POST could do is what the form does anyway:
add one to a counter, at most once per address and article per window.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from carepath.errors import InvalidInput

TOKEN_MAX_AGE_S = 24 * 3600
VOTE_WINDOW_S = 3600.0
MAX_TRACKED = 50_000
_SALT = "carepath.help.feedback"


@dataclass(frozen=True)
class FeedbackTicket:
    tenant_id: str
    article_id: str
    search_id: str | None


def sign_ticket(secret: str, ticket: FeedbackTicket) -> str:
    data = [ticket.tenant_id, ticket.article_id, ticket.search_id]
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(data)


def read_ticket(secret: str, token: str) -> FeedbackTicket:
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=TOKEN_MAX_AGE_S)
    except BadSignature as exc:
        raise InvalidInput("this page is too old to vote from: reload it", field="token") from exc
    if not (
        isinstance(data, list) and len(data) == 3 and all(isinstance(d, str) for d in data[:2])
    ):
        raise InvalidInput("not a vote token", field="token")
    search_id = data[2] if isinstance(data[2], str) else None
    return FeedbackTicket(tenant_id=data[0], article_id=data[1], search_id=search_id)


class VoteLimiter:
    """One vote per (address, article) per window, in this process (a bounded LRU).

    Several server processes each keep their own: a determined voter gets one vote per process,
    which is enough to keep the counts honest without a shared store.
    """

    def __init__(self, window_s: float = VOTE_WINDOW_S, max_tracked: int = MAX_TRACKED) -> None:
        self.window_s = window_s
        self.max_tracked = max_tracked
        self._last: OrderedDict[tuple[str, str], float] = OrderedDict()

    def allow(self, address: str, article_id: str, *, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = (address, article_id)
        last = self._last.get(key)
        if last is not None and now - last < self.window_s:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.max_tracked:
            self._last.popitem(last=False)
        return True
