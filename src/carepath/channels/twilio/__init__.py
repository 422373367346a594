"""Twilio-compatible SMS (and, with the voice package, calls): signatures, parsing, sending."""

from carepath.channels.twilio.sender import TwilioSmsSender
from carepath.channels.twilio.signature import verify_signature, webhook_url
from carepath.channels.twilio.sms import parse_inbound_sms, parse_status_callback

__all__ = [
    "TwilioSmsSender",
    "parse_inbound_sms",
    "parse_status_callback",
    "verify_signature",
    "webhook_url",
]
