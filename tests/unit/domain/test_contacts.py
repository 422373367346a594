"""Contacts: a session on one channel that ends after a gap of inactivity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carepath.domain import Channel, Contact, Handler
from carepath.errors import IllegalTransition, InvalidInput
from carepath.ids import CaseId
from tests.unit.domain.factories import CUSTOMER, T0, TENANT

GAP = timedelta(minutes=30)


def chat_contact(handled_by: Handler = Handler.ASSISTANT) -> Contact:
    return Contact.start(
        TENANT, CUSTOMER, CaseId("case_test"), Channel.CHAT, handled_by=handled_by, now=T0
    )


def test_a_new_contact_is_active_and_remembers_the_assistant() -> None:
    contact = chat_contact()

    assert contact.id.startswith("con_")
    assert contact.assistant_involved
    assert contact.is_active(T0, GAP)
    assert contact.resolved is None


@pytest.mark.parametrize(
    ("idle", "active"),
    [(timedelta(0), True), (GAP - timedelta(seconds=1), True), (GAP, False), (GAP * 5, False)],
)
def test_a_contact_goes_inactive_after_the_gap(idle: timedelta, active: bool) -> None:
    # given a contact whose last activity was at T0
    contact = chat_contact()
    # then it is active only while the gap has not passed
    assert contact.is_active(T0 + idle, GAP) is active


def test_activity_keeps_a_contact_alive() -> None:
    contact = chat_contact()

    contact.touch(T0 + timedelta(minutes=20))

    assert contact.is_active(T0 + timedelta(minutes=45), GAP)


def test_late_callbacks_do_not_move_activity_back() -> None:
    contact = chat_contact()
    contact.touch(T0 + timedelta(minutes=20))

    contact.touch(T0 + timedelta(minutes=5))

    assert contact.last_activity_at == T0 + timedelta(minutes=20)


def test_a_closed_contact_is_inactive_and_refuses_activity() -> None:
    contact = chat_contact()
    contact.close(T0 + timedelta(minutes=3))

    assert not contact.is_active(T0 + timedelta(minutes=4), GAP)
    with pytest.raises(IllegalTransition):
        contact.touch(T0 + timedelta(minutes=4))


def test_closing_twice_keeps_the_first_end() -> None:
    contact = chat_contact()
    contact.close(T0 + timedelta(minutes=3))

    contact.close(T0 + timedelta(minutes=9))

    assert contact.ended_at == T0 + timedelta(minutes=3)


def test_a_hand_off_to_an_agent_keeps_the_assistant_involved() -> None:
    contact = chat_contact()

    contact.hand_to(Handler.AGENT, T0 + timedelta(minutes=2))

    assert contact.handled_by is Handler.AGENT
    assert contact.assistant_involved


def test_an_agent_only_contact_never_involved_the_assistant() -> None:
    assert not chat_contact(Handler.AGENT).assistant_involved


def test_abandoning_ends_the_contact() -> None:
    contact = chat_contact(Handler.AGENT)

    contact.abandon(T0 + timedelta(minutes=1))

    assert contact.abandoned
    assert contact.is_ended


def test_survey_scores_are_recorded_within_their_scales() -> None:
    contact = chat_contact()

    contact.rate(csat=5, nps=0, ces=1)

    assert (contact.csat, contact.nps, contact.ces) == (5, 0, 1)


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"nps": 11}, "nps"),
        ({"ces": 0}, "ces"),
        ({"csat": True}, "csat"),
        ({"nps": 7.5}, "nps"),
    ],
)
def test_out_of_scale_scores_are_refused_whole(scores: dict[str, object], field: str) -> None:
    # given valid answers but one out of its scale
    contact = chat_contact()
    answers = {"csat": 4, "nps": 9, "ces": 3, **scores}
    # when recorded
    with pytest.raises(InvalidInput) as raised:
        contact.rate(**answers)  # type: ignore[arg-type]
    # then the bad one is named and none is kept
    assert raised.value.data["field"] == field
    assert (contact.csat, contact.nps, contact.ces) == (None, None, None)


def test_only_web_is_not_a_conversation_channel() -> None:
    assert [c for c in Channel if not c.is_conversational] == [Channel.WEB]
