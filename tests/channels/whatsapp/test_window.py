"""The 24-hour customer-service window and templates, as rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carepath.domain.whatsapp import Template, ensure_in_window
from carepath.errors import InvalidInput

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(hours=23, minutes=59)])
def test_free_text_is_allowed_within_24_hours(ago: timedelta) -> None:
    ensure_in_window(NOW - ago, NOW)


@pytest.mark.parametrize("last", [NOW - timedelta(hours=24), NOW - timedelta(days=3), None])
def test_outside_the_window_the_error_says_to_send_a_template(last: datetime | None) -> None:
    with pytest.raises(InvalidInput) as raised:
        ensure_in_window(last, NOW)
    assert raised.value.code == "whatsapp_window_closed"
    assert "template" in raised.value.message
    assert raised.value.data["window_hours"] == 24


def test_a_template_becomes_the_cloud_api_object() -> None:
    components = [{"type": "body", "parameters": [{"type": "text", "text": "4711"}]}]
    template = Template.of("order_update", "en_US", components)
    assert template.to_api() == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": components,
    }
    assert Template.from_api(template.to_api()) == template


@pytest.mark.parametrize(
    ("name", "language"), [("Order Update", "en_US"), ("order_update", "english"), ("", "en")]
)
def test_a_malformed_template_is_refused(name: str, language: str) -> None:
    with pytest.raises(InvalidInput):
        Template.of(name, language)
