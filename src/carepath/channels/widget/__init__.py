"""The web chat widget and the in-app channel: one visitor protocol (REST + WebSocket) over the
conversation core. See docs/subsystems/channels.md, "Web chat and in-app"."""

from carepath.channels.widget.limits import MAX_FRAME_BYTES, MAX_TEXT, VisitorLimits
from carepath.channels.widget.session import (
    Visitor,
    VisitorSession,
    issue_token,
    open_session,
    read_token,
    resolve,
)

__all__ = [
    "MAX_FRAME_BYTES",
    "MAX_TEXT",
    "Visitor",
    "VisitorLimits",
    "VisitorSession",
    "issue_token",
    "open_session",
    "read_token",
    "resolve",
]
