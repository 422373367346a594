"""A local emulator of the provider APIs carepath calls (Twilio-compatible messaging and calls,
Meta's Graph API): records every request, answers like the provider, and sends signed webhooks
back. Tests use it; `carepath demo` uses it to simulate traffic. Never for production."""

from carepath.emulator.app import Emulator, create_emulator

__all__ = ["Emulator", "create_emulator"]
