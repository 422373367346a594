"""Public survey answers: by signed token, from the widget, an email link or an app."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from carepath.actions.surveys import do_answer_survey
from carepath.errors import CarepathError
from carepath.survey_links import survey_id_from_token
from carepath.web.deps import DB, get_state
from carepath.web.schemas import Request as RequestBody

router = APIRouter(tags=["surveys"])


class AnswerIn(RequestBody):
    token: str = Field(min_length=10, max_length=500, description="From the survey link or event.")
    answers: dict[str, int] = Field(description='e.g. {"csat": 5, "nps": 9}')


class AnswerOut(BaseModel):
    survey_id: str
    answers: dict[str, int]


@router.post("/v1/surveys/answer", summary="Answer a survey (no login: the token is the proof)")
async def answer(body: AnswerIn, request: Request, db: DB) -> AnswerOut:
    secret = get_state(request).settings.secret()
    survey = await do_answer_survey(db, survey_id_from_token(secret, body.token), body.answers)
    return AnswerOut(survey_id=survey.id, answers=survey.answers)


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
async def one_click(token: str, request: Request, db: DB) -> HTMLResponse:
    """The one-click links in survey emails: /s/TOKEN?csat=4."""
    secret = get_state(request).settings.secret()
    answers = {}
    for key, value in request.query_params.items():
        if not value.isdigit():
            return _page("That link is not complete. Please use the link from the email.", 422)
        answers[key] = int(value)
    try:
        await do_answer_survey(db, survey_id_from_token(secret, token), answers)
    except CarepathError as exc:
        status = 404 if exc.code == "not_found" else 409 if exc.code != "invalid_input" else 422
        return _page(exc.message[:1].upper() + exc.message[1:] + ".", status)
    return _page("Thank you for your answer.", 200)


def _page(text: str, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>Survey</title><p style='font:18px system-ui;margin:3em auto;max-width:30em'>"
        f"{html.escape(text)}</p></html>"
    )
    return HTMLResponse(body, status)
