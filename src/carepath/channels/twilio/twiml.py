"""TwiML, the XML a voice webhook answers with: built with ElementTree, so text is escaped."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
MEDIA_TYPE = "text/xml"


class TwiML:
    """A `<Response>` under construction; verbs are appended in the order they are played."""

    def __init__(self) -> None:
        self.root = Element("Response")

    def say(self, text: str, *, parent: Element | None = None) -> TwiML:
        SubElement(self.root if parent is None else parent, "Say").text = text
        return self

    def gather(self, action: str, prompt: str, *, num_digits: int = 1, timeout_s: int = 6) -> TwiML:
        """Read `prompt` and wait for keys; Twilio posts them (`Digits`) to `action`. With no
        key pressed it goes on with the next verb."""
        gather = SubElement(
            self.root,
            "Gather",
            {
                "action": action,
                "method": "POST",
                "numDigits": str(num_digits),
                "timeout": str(timeout_s),
                "input": "dtmf",
            },
        )
        return self.say(prompt, parent=gather)

    def enqueue(self, queue: str, *, action: str, wait_url: str) -> TwiML:
        """Hold the caller in `queue` until an agent dequeues them; `action` hears how they left
        (QueueResult, QueueTime)."""
        SubElement(
            self.root,
            "Enqueue",
            {"action": action, "method": "POST", "waitUrl": wait_url, "waitUrlMethod": "POST"},
        ).text = queue
        return self

    def dial_client(self, identity: str, *, action: str | None = None) -> TwiML:
        """Connect the call to an agent's softphone (a Twilio Client identity)."""
        dial = SubElement(self.root, "Dial", {"action": action} if action else {})
        SubElement(dial, "Client").text = identity
        return self

    def redirect(self, url: str) -> TwiML:
        SubElement(self.root, "Redirect", {"method": "POST"}).text = url
        return self

    def pause(self, seconds: int) -> TwiML:
        SubElement(self.root, "Pause", {"length": str(seconds)})
        return self

    def hangup(self) -> TwiML:
        SubElement(self.root, "Hangup")
        return self

    def to_xml(self) -> str:
        return XML_DECLARATION + tostring(self.root, encoding="unicode")
