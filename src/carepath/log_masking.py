"""A logging filter that masks card numbers in every log line (URLs with a search query,
provider errors echoing a body), so no log can hold one in clear."""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from carepath.domain.masking import mask_card_numbers


class CardMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_card_numbers(message)
        if masked == message and ("%" in message or "+" in message):
            # A URL-encoded query ("q=my+card+4111+1111...") hides the card behind '+' and
            # '%20'; decoded, it is found. Such a line is logged decoded and masked.
            decoded = unquote_plus(message)
            if mask_card_numbers(decoded) != decoded:
                masked = mask_card_numbers(decoded)
        if masked != message:
            # The rendered, masked text replaces the template and its arguments.
            record.msg, record.args = masked, None
        return True
