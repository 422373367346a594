"""What callers hear: the greeting, the menu that offers to continue digitally, the queue, and
the answers to each choice, as TwiML."""

from __future__ import annotations

from dataclasses import dataclass

from carepath.actions.calls import CallPlan, MenuOutcome, MenuResult
from carepath.actions.outbound_calls import ConnectPlan
from carepath.channels.twilio.twiml import TwiML

MENU_TIMEOUT_S = 6
WAIT_PAUSE_S = 20
QUEUE_ENDED = {
    "bridged": None,  # the agent and caller talked and hung up: nothing more to say
    "hangup": None,
    "queue-full": "Sorry, all our lines are busy. Please call again later, or write to us.",
}
QUEUE_FAILED = "Sorry, we cannot take your call right now. Please call again later."


@dataclass(frozen=True)
class VoiceUrls:
    """The tenant's voice webhooks, absolute (Twilio signs and calls exactly these)."""

    base: str  # {public_url}/webhooks/twilio/{tenant}/voice

    @property
    def menu(self) -> str:
        return f"{self.base}/menu"

    @property
    def queue(self) -> str:
        return f"{self.base}/queue"

    @property
    def wait(self) -> str:
        return f"{self.base}/wait"


def greeting(company: str, name: str | None) -> str:
    first = name.split()[0] if name and name.split() else None
    hello = f"Hello {first}, thank you" if first else "Thank you"
    return f"{hello} for calling {company}."


def menu_prompt(plan: CallPlan) -> str:
    options = []
    if plan.can_text:
        options.append("To get a text with a link to continue this conversation in chat, press 1.")
    if plan.can_call_back:
        options.append("For a call back instead of waiting, press 2.")
    options.append("Or stay on the line to speak to an agent.")
    return " ".join(options)


def answer_call(plan: CallPlan, urls: VoiceUrls) -> str:
    """The first answer: greet (by name when the caller is known), then the menu when the
    strategy map offers digital for the case's intent, else the queue."""
    twiml = TwiML().say(greeting(plan.company, plan.greet_name))
    if plan.menu:
        twiml.gather(urls.menu, menu_prompt(plan), timeout_s=MENU_TIMEOUT_S)
        # No key pressed: the menu endpoint without Digits, which queues the caller.
        twiml.redirect(urls.menu)
        return twiml.to_xml()
    return _enqueue(twiml, plan.queue, urls).to_xml()


def answer_menu(result: MenuResult, urls: VoiceUrls) -> str:
    twiml = TwiML()
    if result.outcome is MenuOutcome.TEXTED:
        twiml.say("We have sent you a text message with a link to continue in chat. Goodbye.")
        return twiml.hangup().to_xml()
    if result.outcome is MenuOutcome.CALLBACK:
        twiml.say(
            "Thank you. We will call you back on this number as soon as an agent is free. Goodbye."
        )
        return twiml.hangup().to_xml()
    return _enqueue(twiml, result.queue, urls).to_xml()


def answer_queue_left(queue_result: str | None) -> str:
    """After the caller left the queue (Twilio's QueueResult)."""
    twiml = TwiML()
    text = QUEUE_ENDED.get(queue_result or "", QUEUE_FAILED)
    if text is not None:
        twiml.say(text)
    return twiml.hangup().to_xml()


def answer_wait(position: str | None) -> str:
    """Played in a loop while the caller waits (the `<Enqueue>` waitUrl)."""
    twiml = TwiML()
    if position and position.isdigit():
        twiml.say(f"Thank you for waiting. You are number {int(position)} in line.")
    else:
        twiml.say("Thank you for waiting. An agent will be with you shortly.")
    return twiml.pause(WAIT_PAUSE_S).to_xml()


def answer_connect(plan: ConnectPlan, urls: VoiceUrls) -> str:
    """The customer answered our call: put them through to the agent who placed it (their
    softphone's client identity is their user id), else to the case's queue."""
    twiml = TwiML().say(
        f"Hello{' ' + plan.customer_name.split()[0] if plan.customer_name else ''}, "
        f"this is {plan.company} calling you back. Please hold while we connect you."
    )
    if plan.agent_id is not None:
        return twiml.dial_client(plan.agent_id).to_xml()
    return _enqueue(twiml, plan.queue, urls).to_xml()


def answer_unknown_call() -> str:
    return TwiML().say("Sorry, this call could not be connected. Goodbye.").hangup().to_xml()


def _enqueue(twiml: TwiML, queue: str, urls: VoiceUrls) -> TwiML:
    twiml.say("Please hold, an agent will be with you shortly.")
    return twiml.enqueue(queue, action=urls.queue, wait_url=urls.wait)
