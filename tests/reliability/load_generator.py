"""A load generator in its own process, playing the providers and customers of one tenant.

    python -m tests.reliability.load_generator TARGET.json ACKS.jsonl COUNT SEED

It sends COUNT inbound messages spread over SMS (Twilio-signed by the `twilio` SDK's
RequestValidator), WhatsApp (X-Hub-Signature-256), email over SMTP and the widget's REST API,
paced so that they span the harness's kills. A message is retried with the same provider id
until carepath acknowledges it (2xx, SMTP 250), as providers do. After some SMS and WhatsApp
messages an agent replies through the API, which makes carepath send to the provider emulator.
Every acknowledgement is appended to ACKS.jsonl (one JSON object per line, flushed) the moment
it arrives: the harness checks exactly those afterwards, whatever happened to this process.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import smtplib
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

CHANNELS = ("sms", "whatsapp", "email", "chat")
CUSTOMERS_PER_CHANNEL = 30
CONCURRENCY = 8
RATE_PER_S = 14.0
RETRY_PAUSE_S = 0.25
GIVE_UP_AFTER_S = 50.0  # a message not acknowledged by then is reported, not acknowledged
REPLY_SHARE = 0.5


class Acks:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, **entry: Any) -> None:
        self.out.write(json.dumps(entry) + "\n")
        self.out.flush()


class Generator:
    def __init__(self, target: dict[str, Any], acks: Acks, seed: int) -> None:
        self.t = target
        self.acks = acks
        self.random = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:8]
        self.http = httpx.AsyncClient(base_url=target["base_url"], timeout=5)
        self.agent = {"Authorization": f"Bearer {target['agent_token']}"}
        self.cases: dict[str, str] = {}  # customer address → case id, for replies
        self.sessions: dict[str, str] = {}  # visitor id → widget session

    async def run(self, count: int) -> None:
        slots = asyncio.Semaphore(CONCURRENCY)
        tasks = []
        started = time.monotonic()
        for i in range(count):
            # Paced: the traffic must span the harness's kills, not finish before the first.
            await asyncio.sleep(max(0.0, started + i / RATE_PER_S - time.monotonic()))
            await slots.acquire()
            task = asyncio.create_task(self.one(i))
            task.add_done_callback(lambda _t: slots.release())
            tasks.append(task)
        await asyncio.gather(*tasks)
        await self.http.aclose()

    async def one(self, i: int) -> None:
        channel = CHANNELS[i % len(CHANNELS)]
        customer = self.random.randrange(CUSTOMERS_PER_CHANNEL)
        text = f"crash message {i} of run {self.run_id}"
        if channel == "sms":
            address = f"+165055501{customer:02d}"
            external_id = f"SM{self.run_id}{i:024x}"
            acked = await self.until_acked(lambda: self.sms(address, external_id, text))
        elif channel == "whatsapp":
            address = f"+165055503{customer:02d}"
            external_id = f"wamid.{self.run_id}.{i}"
            acked = await self.until_acked(lambda: self.whatsapp(address, external_id, text))
        elif channel == "email":
            address = f"customer{customer}@example.com"
            external_id = f"{self.run_id}.{i}@mail.example.com"
            acked = await self.until_acked(lambda: self.email(address, external_id, text))
        else:
            address = f"visitor-{self.run_id}-{customer}"
            external_id = str(uuid.uuid4())
            acked = await self.until_acked(lambda: self.chat(address, external_id, text))
        if not acked:
            self.acks.write(kind="gave_up", channel=channel, external_id=external_id)
            return
        self.acks.write(kind="inbound", channel=channel, external_id=external_id, i=i)
        if channel in ("sms", "whatsapp") and self.random.random() < REPLY_SHARE:
            await self.reply(channel, address, i)

    async def until_acked(self, attempt: Any) -> bool:
        deadline = time.monotonic() + GIVE_UP_AFTER_S
        while time.monotonic() < deadline:
            try:
                if await attempt():
                    return True
            except (httpx.HTTPError, OSError, smtplib.SMTPException):
                pass  # carepath is down or went down mid-request: the provider tries again
            await asyncio.sleep(RETRY_PAUSE_S)
        return False

    async def sms(self, sender: str, sid: str, text: str) -> bool:
        path = f"/webhooks/twilio/{self.t['slug']}/sms"
        form = {
            "MessageSid": sid,
            "AccountSid": self.t["account_sid"],
            "From": sender,
            "To": self.t["sms_number"],
            "Body": text,
            "NumMedia": "0",
        }
        signature = RequestValidator(self.t["auth_token"]).compute_signature(
            self.t["base_url"] + path, form
        )
        response = await self.http.post(
            path,
            content=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        return response.is_success

    async def whatsapp(self, sender: str, wamid: str, text: str) -> bool:
        wa_id = sender.removeprefix("+")
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550783881",
                "phone_number_id": self.t["whatsapp_number_id"],
            },
            "contacts": [{"profile": {"name": "Customer"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
        body = json.dumps(payload).encode()
        digest = hmac.new(self.t["app_secret"].encode(), body, hashlib.sha256).hexdigest()
        response = await self.http.post(
            f"/webhooks/whatsapp/{self.t['slug']}",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"},
        )
        return response.is_success

    async def email(self, sender: str, message_id: str, text: str) -> bool:
        mail = EmailMessage()
        mail["From"] = sender
        mail["To"] = self.t["support"]
        mail["Subject"] = "Crash test"
        mail["Message-ID"] = f"<{message_id}>"
        mail.set_content(text)

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", self.t["smtp_port"], timeout=5) as smtp:
                smtp.send_message(mail)  # raises unless every recipient got 250

        await asyncio.to_thread(send)
        return True

    async def chat(self, visitor_id: str, client_id: str, text: str) -> bool:
        session = self.sessions.get(visitor_id)
        if session is None:
            answer = await self.http.post(
                "/v1/visitor/session",
                json={"visitor_id": visitor_id, "channel": "chat"},
                headers={"X-Carepath-Key": self.t["public_key"]},
            )
            if not answer.is_success:
                return False
            session = self.sessions[visitor_id] = str(answer.json()["session"])
        response = await self.http.post(
            "/v1/visitor/messages",
            json={"client_id": client_id, "text": text},
            headers={"X-Carepath-Session": session},
        )
        if response.status_code == 429:  # the visitor's own rate limit: wait, as the widget does
            await asyncio.sleep(float(response.json()["error"]["data"].get("retry_after_s", 1)))
        return response.is_success

    async def reply(self, channel: str, address: str, i: int) -> None:
        """An agent answers through the API; carepath then sends it through the emulator.

        A reply whose POST got no answer is not retried (that would be a second reply, not a
        retry) and is reported as unacknowledged."""
        case_id = await self.case_of(channel, address)
        if case_id is None:
            self.acks.write(kind="reply_skipped", channel=channel, i=i)
            return
        try:
            response = await self.http.post(
                f"/v1/cases/{case_id}/replies",
                json={"text": f"reply to {i} of run {self.run_id}", "channel": channel},
                headers=self.agent,
            )
        except httpx.HTTPError:
            self.acks.write(kind="reply_unacknowledged", channel=channel, i=i)
            return
        if response.status_code == 201:
            self.acks.write(kind="reply", channel=channel, message_id=response.json()["id"], i=i)
        else:
            self.acks.write(kind="reply_refused", channel=channel, i=i, status=response.status_code)

    async def case_of(self, channel: str, address: str) -> str | None:
        if address in self.cases:
            return self.cases[address]
        kind = "phone" if channel == "sms" else "whatsapp"
        for _ in range(40):
            try:
                found = await self.http.get(
                    "/v1/customers", params={"identity": address, "kind": kind}, headers=self.agent
                )
                items = found.json()["items"] if found.is_success else []
                if items:
                    cases = await self.http.get(
                        "/v1/cases", params={"customer": items[0]["id"]}, headers=self.agent
                    )
                    if cases.is_success and cases.json()["items"]:
                        case_id = str(cases.json()["items"][0]["id"])
                        self.cases[address] = case_id
                        return case_id
            except httpx.HTTPError:
                pass
            await asyncio.sleep(RETRY_PAUSE_S)
        return None


def main() -> None:
    target_file, acks_file, count, seed = sys.argv[1:5]
    target = json.loads(Path(target_file).read_text())
    with Path(acks_file).open("a") as out:
        asyncio.run(Generator(target, Acks(out), int(seed)).run(int(count)))


if __name__ == "__main__":
    main()
