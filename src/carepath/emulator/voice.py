"""Twilio-compatible calls in the emulator: the Calls API that places a call (then answers it,
fetches its TwiML and reports its progress, signed), and controls that play a caller."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from carepath.emulator.app import Emulator, Recorded, _basic_password, _basic_user, _sid

# Progress follows a placed call like the provider's does, a moment apart.
CALL_STEP_DELAY_S = 0.1
DEFAULT_TALK_S = 30
ACCOUNT_SID = "AC" + "0" * 32
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass(frozen=True)
class Outcome:
    """How a call the emulator places ends: answered and talked `duration` seconds
    (`completed`), or `busy`, `no-answer`, `failed`."""

    status: str = "completed"
    duration: int = DEFAULT_TALK_S


@dataclass
class VoiceEmulator:
    emulator: Emulator
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    async def post(self, url: str, token: str, form: dict[str, str]) -> httpx.Response:
        return await self.emulator.post_signed_form(url, token, form)


def _voice(request: Request) -> VoiceEmulator:
    voice: VoiceEmulator = request.app.state.voice
    return voice


async def _form(request: Request) -> dict[str, str]:
    """The form with repeated keys joined by spaces (StatusCallbackEvent comes several times)."""
    form: dict[str, str] = {}
    for key, value in (await request.form()).multi_items():
        form[key] = f"{form[key]} {value}" if key in form else str(value)
    return form


async def calls(request: Request) -> Response:
    """POST /2010-04-01/Accounts/{AccountSid}/Calls.json: record, answer queued, then play it."""
    voice = _voice(request)
    account_sid = request.path_params["account_sid"]
    if _basic_user(request) != account_sid:
        return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
    form = await _form(request)
    missing = [name for name in ("To", "From", "Url") if not form.get(name)]
    if missing:
        return JSONResponse(
            {"code": 21205, "message": f"missing {', '.join(missing)}", "status": 400}, 400
        )
    voice.emulator.record("twilio.call", request, form)
    sid = _sid("CA")
    outcome = voice.outcomes.get(form["To"], Outcome())
    voice.emulator.later(_play(voice, _basic_password(request), account_sid, sid, form, outcome))
    body = {
        "sid": sid,
        "account_sid": account_sid,
        "to": form["To"],
        "from": form["From"],
        "status": "queued",
        "direction": "outbound-api",
    }
    return JSONResponse(body, 201)


async def _play(
    voice: VoiceEmulator,
    token: str,
    account_sid: str,
    sid: str,
    placed: dict[str, str],
    outcome: Outcome,
) -> None:
    """What the provider does with a placed call: rings, and either the callee answers (the
    TwiML is fetched from `Url`) and later hangs up, or it ends busy / unanswered / failed."""
    base = {
        "CallSid": sid,
        "AccountSid": account_sid,
        "From": placed["From"],
        "To": placed["To"],
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
    }
    callback = placed.get("StatusCallback")
    try:
        for status in ("queued", "ringing"):
            await asyncio.sleep(CALL_STEP_DELAY_S)
            if callback:
                await voice.post(callback, token, {**base, "CallStatus": status})
        if outcome.status == "completed":
            await asyncio.sleep(CALL_STEP_DELAY_S)
            answered = await voice.post(placed["Url"], token, {**base, "CallStatus": "in-progress"})
            voice.emulator.requests.append(
                _recorded(placed["Url"], {"status": str(answered.status_code)}, answered.text)
            )
            if callback:
                await voice.post(callback, token, {**base, "CallStatus": "in-progress"})
        await asyncio.sleep(CALL_STEP_DELAY_S)
        if callback:
            duration = outcome.duration if outcome.status == "completed" else 0
            final = {**base, "CallStatus": outcome.status, "CallDuration": str(duration)}
            await voice.post(callback, token, final)
    except httpx.HTTPError:
        return  # carepath is gone; a real provider would retry, the emulator need not


def _recorded(url: str, form: dict[str, str], twiml: str) -> Recorded:
    """The TwiML carepath answered when the callee picked up, for tests to read."""
    return Recorded(
        kind="twilio.call.twiml",
        path=url,
        form=form,
        json=twiml,
        auth_user=None,
        at=datetime.now(UTC).isoformat(),
    )


async def call_outcome(request: Request) -> Response:
    """Control: how calls the emulator places to `to` end. Body: to, status, duration."""
    spec = await request.json()
    status = str(spec.get("status", "completed"))
    if status not in FINAL:
        return JSONResponse({"error": f"status is one of {', '.join(FINAL)}"}, 400)
    _voice(request).outcomes[str(spec["to"])] = Outcome(
        status, int(spec.get("duration", DEFAULT_TALK_S))
    )
    return Response(status_code=204)


def _standard(spec: dict[str, Any], *, direction: str = "inbound") -> dict[str, str]:
    return {
        "CallSid": spec.get("call_sid") or _sid("CA"),
        "AccountSid": spec.get("account_sid", ACCOUNT_SID),
        "From": spec["from"],
        "To": spec["to"],
        "Direction": spec.get("direction", direction),
        "ApiVersion": "2010-04-01",
    }


async def _send(request: Request, spec: dict[str, Any], form: dict[str, str]) -> Response:
    response = await _voice(request).post(spec["url"], spec["auth_token"], form)
    return JSONResponse(
        {"status": response.status_code, "body": response.text, "call_sid": form["CallSid"]}
    )


async def incoming_call(request: Request) -> Response:
    """Control: act as a customer phoning carepath. Body: url, auth_token, from, to,
    call_sid?, caller_name?. Answers with carepath's status and TwiML."""
    spec = await request.json()
    form = {**_standard(spec), "CallStatus": "ringing"}
    if spec.get("caller_name"):
        form["CallerName"] = str(spec["caller_name"])
    return await _send(request, spec, form)


async def gather(request: Request) -> Response:
    """Control: the caller presses keys in a `<Gather>` (or none: `digits` left out). Body: url
    (the Gather's action), auth_token, call_sid, from, to, digits?."""
    spec = await request.json()
    form = {**_standard(spec), "CallStatus": "in-progress"}
    if spec.get("digits") is not None:
        form["Digits"] = str(spec["digits"])
    return await _send(request, spec, form)


_REPORT_FIELDS = {
    "status": "CallStatus",
    "duration": "CallDuration",
    "queue_result": "QueueResult",
    "queue_time": "QueueTime",
    "recording_url": "RecordingUrl",
    "recording_sid": "RecordingSid",
    "recording_duration": "RecordingDuration",
    "transcription_text": "TranscriptionText",
    "transcription_url": "TranscriptionUrl",
}


async def call_report(request: Request) -> Response:
    """Control: a status callback, the `<Enqueue>` action or a recording / transcription report
    about a call. Body: url, auth_token, call_sid, from, to, and any of status, duration,
    queue_result, queue_time, recording_url, recording_sid, recording_duration,
    transcription_text, transcription_url."""
    spec = await request.json()
    form = _standard(spec)
    for key, name in _REPORT_FIELDS.items():
        if spec.get(key) is not None:
            form[name] = str(spec[key])
    return await _send(request, spec, form)


def routes() -> list[BaseRoute]:
    return [
        Route("/2010-04-01/Accounts/{account_sid}/Calls.json", calls, methods=["POST"]),
        Route("/_emulator/twilio/call", incoming_call, methods=["POST"]),
        Route("/_emulator/twilio/gather", gather, methods=["POST"]),
        Route("/_emulator/twilio/call_report", call_report, methods=["POST"]),
        Route("/_emulator/twilio/call_outcome", call_outcome, methods=["POST"]),
    ]


def install(app: Starlette, emulator: Emulator) -> None:
    """Add the voice routes and their state to the emulator's app."""
    app.router.routes.extend(routes())
    app.state.voice = VoiceEmulator(emulator)
