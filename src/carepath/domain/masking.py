"""Masking of payment card numbers in free text, so that none is ever stored or shown whole."""

from __future__ import annotations

import re
from typing import Any, TypeVar, cast

T = TypeVar("T")

MIN_CARD_DIGITS = 13
MAX_CARD_DIGITS = 19
KEPT_DIGITS = 4
MASK = "*"

# A maximal run of at least 13 ASCII digits, each group joined to the next by one space or dash.
# The lookbehinds anchor a match at the start of a run, never inside one, so a card-like tail
# of a longer run cannot match on its own; separators and digits are disjoint, so the engine
# cannot backtrack more than linearly.
_RUN = re.compile(r"(?<![0-9])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12,}")
_GROUP = re.compile(r"[0-9]+")
# Luhn doubles every second digit from the right; this is the digit sum of each doubled digit.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def mask_card_numbers(text: str) -> str:
    """`text` with every digit of each Luhn-valid card number but the last four replaced by `*`.

    A card is 13-19 digits, written together or in groups separated by single spaces or dashes;
    the separators are kept so the layout stays readable ("**** **** **** 1111"). Only whole
    groups are taken, so digits inside a longer unbroken run are never a card.
    """
    if len(text) < MIN_CARD_DIGITS:
        return text
    return _RUN.sub(_mask_run, text)


def mask_in(obj: T) -> T:
    """A copy of a JSON-like value (dicts, lists, strings, scalars) with card numbers masked."""
    return cast(T, _mask_any(obj))


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        total += _DOUBLED[digit] if position % 2 else digit
    return total % 10 == 0


def _mask_any(obj: Any) -> Any:
    if isinstance(obj, str):
        return mask_card_numbers(obj)
    if isinstance(obj, dict):
        # Keys are masked too: a client may use a card number as a key by mistake.
        return {_mask_any(key): _mask_any(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_mask_any(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_mask_any(item) for item in obj)
    return obj


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    groups = [(group.start(), group.end()) for group in _GROUP.finditer(run)]
    digits = "".join(run[start:end] for start, end in groups)
    luhn = _LuhnSums(digits)
    # An international phone number ("+44 ...") is never a card; its first group cannot start one.
    first = 1 if match.start() > 0 and match.string[match.start() - 1] == "+" else 0
    masked: list[str] | None = None
    offsets = _digit_offsets(groups)
    i = first
    while i < len(groups):
        end = _longest_card_from(i, groups, offsets, luhn)
        if end is None:
            i += 1
            continue
        if masked is None:
            masked = list(run)
        last_kept = groups[end][1] - KEPT_DIGITS
        for start, stop in groups[i : end + 1]:
            for pos in range(start, min(stop, last_kept)):
                masked[pos] = MASK
        i = end + 1
    return run if masked is None else "".join(masked)


def _digit_offsets(groups: list[tuple[int, int]]) -> list[int]:
    """offsets[k] is the index, among the run's digits only, of the first digit of group k."""
    offsets = [0]
    for start, end in groups:
        offsets.append(offsets[-1] + end - start)
    return offsets


def _longest_card_from(
    first: int, groups: list[tuple[int, int]], offsets: list[int], luhn: _LuhnSums
) -> int | None:
    """The last group of the longest Luhn-valid card that begins with group `first`, if any."""
    best = None
    for last in range(first, len(groups)):
        length = offsets[last + 1] - offsets[first]
        if length > MAX_CARD_DIGITS:
            break
        if length >= MIN_CARD_DIGITS and luhn.valid(offsets[first], offsets[last + 1]):
            best = last
    return best


class _LuhnSums:
    """Prefix sums that answer "is digits[a:b] Luhn-valid?" in constant time.

    A long run of short groups ("1 2 3 4 ...") has many candidate spans; checking each one
    digit by digit would make a large message slow.
    """

    def __init__(self, digits: str) -> None:
        # plain[p][k] / doubled[p][k]: sum over digits before k at positions of parity p.
        self.plain = ([0], [0])
        self.doubled = ([0], [0])
        for index, char in enumerate(digits):
            digit = ord(char) - 48
            for parity in (0, 1):
                same = index % 2 == parity
                self.plain[parity].append(self.plain[parity][-1] + (digit if same else 0))
                self.doubled[parity].append(
                    self.doubled[parity][-1] + (_DOUBLED[digit] if same else 0)
                )

    def valid(self, start: int, stop: int) -> bool:
        # The last digit is not doubled; digits at its parity are plain, the others doubled.
        last = (stop - 1) % 2
        other = 1 - last
        total = (self.plain[last][stop] - self.plain[last][start]) + (
            self.doubled[other][stop] - self.doubled[other][start]
        )
        return total % 10 == 0
