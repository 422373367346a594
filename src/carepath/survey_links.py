"""Signed survey tokens: what a survey link or the widget's rating control carries, so answers
need no login yet cannot be forged or pointed at another survey."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from carepath.errors import NotFound

_SALT = "carepath.survey"


def survey_token(secret: str, survey_id: str) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps(survey_id)


def survey_id_from_token(secret: str, token: str) -> str:
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature as exc:
        raise NotFound("survey not found", kind="survey") from exc
    if not isinstance(value, str):
        raise NotFound("survey not found", kind="survey")
    return value
