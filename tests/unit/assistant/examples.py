"""A small intent set written for the tests: four intents, fifteen examples each, and some
out-of-scope messages for validation."""

from __future__ import annotations

from carepath.assistant import OUT_OF_SCOPE, Example

INTENTS: dict[str, list[str]] = {
    "card_arrival": [
        "my card has not arrived yet",
        "where is my new card",
        "I am still waiting for my card",
        "the card you sent me never came",
        "when will my card be delivered",
        "how long does the card take to arrive",
        "card still not here after two weeks",
        "has my card been posted",
        "I ordered a card and it has not come",
        "my debit card is missing in the post",
        "track the delivery of my card",
        "is my card on its way",
        "no card in the mail yet",
        "the new card is late",
        "when does the replacement card arrive",
    ],
    "refund_not_received": [
        "my refund still hasn't arrived",
        "I have not received my refund",
        "where is the money you owe me for the return",
        "the refund is not in my account",
        "I returned the item but got no refund",
        "how long until my refund shows up",
        "refund missing after two weeks",
        "you promised a refund and nothing came",
        "the merchant refunded me but I don't see it",
        "still waiting on my refund",
        "refund has not been credited",
        "why is my refund taking so long",
        "I never got the refund for my order",
        "my return was accepted but no money back",
        "where is my refund",
    ],
    "cancel_subscription": [
        "cancel my subscription",
        "I want to stop my monthly plan",
        "how do I end my membership",
        "please unsubscribe me from the premium plan",
        "stop charging me every month",
        "I no longer want the subscription",
        "terminate my plan at the end of the month",
        "how can I cancel the service",
        "end my subscription now",
        "I would like to quit my membership",
        "remove my recurring payment for the plan",
        "cancel premium",
        "don't renew my subscription",
        "I want to cancel before the next billing date",
        "stop my subscription please",
    ],
    "change_address": [
        "I moved and need to change my address",
        "update my home address",
        "how do I change my postal address",
        "my address is wrong on my account",
        "I have a new address",
        "change the delivery address on my profile",
        "where can I edit my address",
        "please update where I live",
        "set a new billing address",
        "my street address changed",
        "correct the address you have for me",
        "I need to update my contact address",
        "new house, new address, how do I update it",
        "change address",
        "edit my address details",
    ],
}

VALIDATION: list[tuple[str, str]] = [
    ("did my card ship yet", "card_arrival"),
    ("the card I ordered is not here", "card_arrival"),
    ("I still don't have my refund", "refund_not_received"),
    ("no refund received for the return", "refund_not_received"),
    ("I want to cancel my membership", "cancel_subscription"),
    ("end the monthly plan", "cancel_subscription"),
    ("I need to change where I live on my account", "change_address"),
    ("update my address please", "change_address"),
    ("what is the weather like tomorrow", OUT_OF_SCOPE),
    ("tell me a joke about penguins", OUT_OF_SCOPE),
    ("who won the football game last night", OUT_OF_SCOPE),
    ("recommend a good pizza recipe", OUT_OF_SCOPE),
    ("xqzt vlorp gnash", OUT_OF_SCOPE),
    ("play some jazz music", OUT_OF_SCOPE),
]

GIBBERISH = ["asdfgh qwerty zxcvb", "blorft snizzle wump", "how tall is mount everest"]


def training_examples() -> list[Example]:
    return [Example(text, intent) for intent, texts in INTENTS.items() for text in texts]


def validation_examples() -> list[Example]:
    return [Example(text, intent) for text, intent in VALIDATION]


def training_csv() -> str:
    lines = ["text,intent"] + [f'"{e.text}",{e.intent}' for e in training_examples()]
    return "\n".join(lines) + "\n"


def validation_csv() -> str:
    lines = ["text,intent"] + [f'"{e.text}",{e.intent}' for e in validation_examples()]
    return "\n".join(lines) + "\n"
