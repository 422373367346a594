"""The session cookie, set the same way by the API login and the workspace's login form."""

from __future__ import annotations

from fastapi import Request, Response

from carepath.authn import SESSION_COOKIE, session_digest_of
from carepath.web.deps import get_state


def set_session_cookie(response: Response, request: Request, session_key: str) -> None:
    state = get_state(request)
    response.set_cookie(
        SESSION_COOKIE,
        state.session_signer.sign(session_key).decode(),
        max_age=state.settings.session_max_age_s,
        httponly=True,
        secure=state.settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def presented_session(request: Request) -> str | None:
    """The digest of the session the request's cookie names, for a login to end it."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return session_digest_of(cookie, signer=get_state(request).session_signer)
