"""Eight realistic help articles of a web shop, created through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import bearer

ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "refund-timing",
        "title": "When will I get my refund?",
        "category": "Returns and refunds",
        "intents": ["refund_not_received"],
        "tags": ["refund", "money back"],
        "body": "Once your return reaches our warehouse we check it within 2 working days and "
        "issue the **refund** to the original payment method.\n\nBanks take 3-5 working days "
        "to show the money on your statement. If your refund has not arrived after 10 working "
        "days, contact us with your order number.",
    },
    {
        "slug": "start-a-return",
        "title": "How to return an item",
        "category": "Returns and refunds",
        "intents": ["return_item"],
        "tags": ["returns", "label"],
        "body": "You can return most items within 30 days. Open **Orders**, choose the item and "
        "press *Return*. Print the prepaid label, pack the parcel and drop it at any post "
        "office.",
    },
    {
        "slug": "track-my-order",
        "title": "Track your order",
        "category": "Delivery",
        "intents": ["where_is_my_order"],
        "tags": ["tracking", "delivery"],
        "body": "Every shipped order has a tracking link in the dispatch email. The courier "
        "updates the parcel status several times a day; a parcel normally arrives within 3 "
        "working days.",
    },
    {
        "slug": "change-delivery-address",
        "title": "Change the delivery address",
        "category": "Delivery",
        "intents": ["change_address"],
        "tags": ["address"],
        "body": "You can change the address until the order is packed. Go to **Orders**, pick "
        "the order and press *Edit address*. After dispatch ask the courier to redirect the "
        "parcel.",
    },
    {
        "slug": "reset-password",
        "title": "Reset your password",
        "category": "Your account",
        "intents": ["forgot_password"],
        "tags": ["login", "password"],
        "body": "Press *Forgot password* on the sign-in page and enter your email. We send a "
        "link valid for one hour. Check your spam folder if the email does not arrive.",
    },
    {
        "slug": "payment-declined",
        "title": "My card payment was declined",
        "category": "Payments",
        "intents": ["card_declined"],
        "tags": ["card", "payment"],
        "body": "A declined card payment usually means the bank blocked it. Check the card "
        "number, expiry date and security code, or try another card. We never store your full "
        "card number.",
    },
    {
        "slug": "cancel-order",
        "title": "Cancel an order",
        "category": "Orders",
        "intents": ["cancel_order"],
        "tags": ["cancel"],
        "body": "Orders can be cancelled free of charge until they are packed. Open the order "
        "and press *Cancel order*; the money is released to your card at once.",
    },
    {
        "slug": "gift-cards",
        "title": "Gift cards and vouchers",
        "category": "Payments",
        "intents": ["gift_card"],
        "tags": ["voucher", "gift card"],
        "body": "Gift cards are valid for two years. Enter the code at checkout; any balance "
        "left stays on the card for your next order.",
    },
]


async def create_articles(
    client: httpx.AsyncClient, token: str, *, publish: bool = True
) -> dict[str, str]:
    """The fixture articles, published; their ids by slug."""
    ids = {}
    for article in ARTICLES:
        response = await client.post(
            "/v1/articles", json={**article, "publish": publish}, headers=bearer(token)
        )
        assert response.status_code == 201, response.text
        ids[article["slug"]] = response.json()["id"]
    return ids
