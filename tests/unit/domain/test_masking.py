"""Card numbers are masked wherever they appear; other numbers are left alone."""

from __future__ import annotations

import time

import pytest

from carepath.domain import mask_card_numbers, mask_in
from carepath.domain.masking import luhn_valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", "**** **** **** 1111"),
        ("4111-1111-1111-1111", "****-****-****-1111"),
        ("4111111111111111", "************1111"),
        ("5555 5555 5555 4444", "**** **** **** 4444"),
        ("2223-0031-2200-3222", "****-****-****-3222"),
        ("3782 822463 10005", "**** ****** *0005"),
        ("3056 930902 5904", "**** ****** 5904"),
        ("4222222222222", "*********2222"),
        ("6212 3456 7890 1234 569", "**** **** **** **** 569"),
        ("6212345678901234569", "***************4569"),
    ],
    ids=[
        "visa-spaces",
        "visa-dashes",
        "visa-plain",
        "mastercard",
        "mastercard-2-series",
        "amex",
        "diners-14",
        "visa-13",
        "19-grouped",
        "19-plain",
    ],
)
def test_card_numbers_keep_only_their_last_four_digits(text: str, expected: str) -> None:
    # given a card number on its own
    # when it is masked
    masked = mask_card_numbers(text)
    # then only the last four digits and the separators remain
    assert masked == expected


def test_a_card_inside_a_sentence_is_masked_and_the_sentence_kept() -> None:
    text = "Hi, my card 4111 1111 1111 1111 was charged twice."

    assert mask_card_numbers(text) == "Hi, my card **** **** **** 1111 was charged twice."


def test_several_cards_in_one_text_are_all_masked() -> None:
    text = "old 4111111111111111, new 5555-5555-5555-4444 and amex 3782 822463 10005"

    assert mask_card_numbers(text) == (
        "old ************1111, new ****-****-****-4444 and amex **** ****** *0005"
    )


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # one digit off: Luhn fails
        "order 1234567890123",  # 13 digits, not Luhn-valid
        "call me on +1 650-555-1234",
        "+44 20 7946 0958",
        "(650) 555-1234",
        "tracking 1Z999AA10123456784",
        "on 2024-05-01 at 10:30",
        "4111 1111 1111",  # too short to be a card
        "411111111111111111111111111",  # a valid card as the head of a 27-digit run
        "99941111111111111111",  # ... and as the tail of a 20-digit run
        "ref 12345678901234567890123 4",  # a 23-digit run is one group, never split
    ],
)
def test_numbers_that_are_not_cards_are_left_alone(text: str) -> None:
    assert mask_card_numbers(text) == text


def test_an_international_phone_number_that_passes_luhn_is_not_a_card() -> None:
    # given a 13-digit number written with "+", which happens to be Luhn-valid
    assert luhn_valid("4222222222222")
    text = "call +4222222222222"
    # then it is read as a phone number
    assert mask_card_numbers(text) == text


def test_a_card_next_to_other_numbers_is_found_by_whole_groups() -> None:
    assert mask_card_numbers("4111 1111 1111 1111 2024") == "**** **** **** 1111 2024"
    assert mask_card_numbers("12 4111111111111111") == "12 ************1111"


def test_masking_is_idempotent() -> None:
    once = mask_card_numbers("card 4111-1111-1111-1111")

    assert mask_card_numbers(once) == once


@pytest.mark.parametrize(
    "chunk",
    ["4111 1111 1111 1111 ", "1 ", "1-", "1234567890", "abc 12345 ", "4111111111111111 9 "],
    ids=["cards", "single-digit-groups", "dashed-digits", "one-long-run", "words", "mixed"],
)
def test_a_100_kb_text_is_masked_quickly(chunk: str) -> None:
    # given 100 KB of digit-heavy text, the worst shapes for a card matcher
    text = chunk * (100_000 // len(chunk))
    # when it is masked
    started = time.perf_counter()
    masked = mask_card_numbers(text)
    elapsed = time.perf_counter() - started
    # then it takes well under a second and keeps its length
    assert elapsed < 1.0
    assert len(masked) == len(text)


def test_mask_in_masks_every_string_of_a_json_structure() -> None:
    # given properties with card numbers at several depths, in keys and values
    properties = {
        "note": "card 4111111111111111",
        "items": [{"ref": "5555-5555-5555-4444"}, 42, None, True],
        "4111111111111111": "key",
        "amount": 12.5,
    }
    # when masked
    masked = mask_in(properties)
    # then every string is masked, other values untouched, and the input unchanged
    assert masked == {
        "note": "card ************1111",
        "items": [{"ref": "****-****-****-4444"}, 42, None, True],
        "************1111": "key",
        "amount": 12.5,
    }
    assert properties["note"] == "card 4111111111111111"
