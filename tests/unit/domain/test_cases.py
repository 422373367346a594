"""The case status machine: every legal move works, every other one is refused."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from carepath.domain import Case, CaseStatus, Channel, Priority, can_transition
from carepath.errors import IllegalTransition, InvalidInput
from tests.unit.domain.factories import AGENT, CUSTOMER, OTHER_AGENT, T0, TENANT, case_in

S = CaseStatus
LEGAL = {
    (S.BOT, S.QUEUED),
    (S.BOT, S.ASSIGNED),
    (S.BOT, S.RESOLVED),
    (S.QUEUED, S.ASSIGNED),
    (S.QUEUED, S.RESOLVED),
    (S.ASSIGNED, S.PENDING_CUSTOMER),
    (S.ASSIGNED, S.QUEUED),
    (S.ASSIGNED, S.RESOLVED),
    (S.PENDING_CUSTOMER, S.ASSIGNED),
    (S.PENDING_CUSTOMER, S.QUEUED),
    (S.PENDING_CUSTOMER, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.QUEUED),
    (S.RESOLVED, S.ASSIGNED),
}
ALL_PAIRS = list(itertools.product(CaseStatus, CaseStatus))
LATER = T0 + timedelta(minutes=5)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_legal_transitions_move_the_case(from_status: CaseStatus, to_status: CaseStatus) -> None:
    # given a case in `from_status`, with an agent chosen when it is to be assigned
    case = case_in(from_status)
    if to_status is S.ASSIGNED and case.assignee_id is None:
        case.assignee_id = AGENT
    assert can_transition(from_status, to_status)
    # when it moves
    case.transition(to_status, LATER)
    # then it is in `to_status`, touched now
    assert case.status is to_status
    assert case.updated_at == LATER


@pytest.mark.parametrize(
    ("from_status", "to_status"), [pair for pair in ALL_PAIRS if pair not in LEGAL]
)
def test_illegal_transitions_are_refused(from_status: CaseStatus, to_status: CaseStatus) -> None:
    # given a case in `from_status`
    case = case_in(from_status)
    assert not can_transition(from_status, to_status)
    # when it is asked to move to `to_status`
    with pytest.raises(IllegalTransition) as raised:
        case.transition(to_status, LATER)
    # then it refuses, says why in its data, and nothing changed
    assert raised.value.code == "illegal_transition"
    assert raised.value.data["from_status"] == from_status.value
    assert case.status is from_status
    assert case.updated_at == T0


def test_a_new_case_starts_with_the_assistant() -> None:
    case = Case.open(TENANT, CUSTOMER, Channel.WHATSAPP, intent="card_arrival", now=T0)

    assert case.status is CaseStatus.BOT
    assert case.is_open
    assert case.id.startswith("case_")
    assert case.priority is Priority.NORMAL
    assert case.reopen_count == 0


@pytest.mark.parametrize("status", [S.PENDING_CUSTOMER, S.RESOLVED, S.CLOSED])
def test_a_case_cannot_open_in_a_later_status(status: CaseStatus) -> None:
    with pytest.raises(InvalidInput):
        Case.open(TENANT, CUSTOMER, Channel.CHAT, status=status, assignee_id=AGENT)


def test_a_case_opens_assigned_only_with_an_assignee() -> None:
    with pytest.raises(InvalidInput):
        Case.open(TENANT, CUSTOMER, Channel.VOICE, status=S.ASSIGNED)
    with pytest.raises(InvalidInput):
        Case.open(TENANT, CUSTOMER, Channel.VOICE, status=S.QUEUED, assignee_id=AGENT)

    case = Case.open(TENANT, CUSTOMER, Channel.VOICE, status=S.ASSIGNED, assignee_id=AGENT)
    assert case.assignee_id == AGENT


def test_assigned_needs_an_assignee() -> None:
    case = case_in(S.QUEUED)

    with pytest.raises(IllegalTransition):
        case.transition(S.ASSIGNED, LATER)


def test_assigning_a_queued_case_gives_it_to_the_agent() -> None:
    case = case_in(S.QUEUED)

    case.assign(AGENT, LATER)

    assert case.status is S.ASSIGNED
    assert case.assignee_id == AGENT


@pytest.mark.parametrize("status", [S.ASSIGNED, S.PENDING_CUSTOMER])
def test_assigning_an_owned_case_transfers_it(status: CaseStatus) -> None:
    case = case_in(status)

    case.assign(OTHER_AGENT, LATER)

    assert case.status is status
    assert case.assignee_id == OTHER_AGENT


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_a_finished_case_cannot_be_assigned(status: CaseStatus) -> None:
    with pytest.raises(IllegalTransition):
        case_in(status).assign(OTHER_AGENT, LATER)


def test_requeueing_clears_the_assignee() -> None:
    case = case_in(S.ASSIGNED)

    case.unassign(LATER)

    assert case.status is S.QUEUED
    assert case.assignee_id is None


def test_unassigning_a_waiting_case_keeps_it_waiting_with_nobody() -> None:
    # given an agent waiting for the customer
    case = case_in(S.PENDING_CUSTOMER)
    # when the agent is taken off it
    case.unassign(LATER)
    # then it still waits, with no owner
    assert (case.status, case.assignee_id) == (S.PENDING_CUSTOMER, None)
    # and the customer's answer goes to the queue
    assert case.on_customer_message(LATER) is True
    assert case.status is S.QUEUED


@pytest.mark.parametrize("status", [S.BOT, S.QUEUED, S.RESOLVED, S.CLOSED])
def test_unassigning_a_case_without_an_agent_is_refused(status: CaseStatus) -> None:
    with pytest.raises(IllegalTransition):
        case_in(status).unassign(LATER)


def test_a_customer_reply_returns_a_waiting_case_to_its_agent() -> None:
    case = case_in(S.PENDING_CUSTOMER)

    changed = case.on_customer_message(LATER)

    assert changed is True
    assert case.status is S.ASSIGNED
    assert case.assignee_id == AGENT


@pytest.mark.parametrize("status", [S.BOT, S.QUEUED, S.ASSIGNED])
def test_a_customer_message_on_an_active_case_keeps_its_status(status: CaseStatus) -> None:
    case = case_in(status)

    assert case.on_customer_message(LATER) is False
    assert case.status is status
    assert case.updated_at == LATER


def test_a_customer_message_reopens_a_resolved_case_into_the_queue() -> None:
    case = case_in(S.RESOLVED)

    assert case.on_customer_message(LATER) is True

    assert case.status is S.QUEUED
    assert case.assignee_id is None
    assert case.reopen_count == 1
    assert case.resolved_at is None


def test_a_closed_case_takes_no_more_messages() -> None:
    with pytest.raises(IllegalTransition):
        case_in(S.CLOSED).on_customer_message(LATER)


def test_resolving_and_closing_record_their_times() -> None:
    case = case_in(S.ASSIGNED)

    case.resolve(LATER)
    assert case.resolved_at == LATER
    assert not case.is_open
    assert case.assignee_id == AGENT  # who resolved it stays known

    closed_at = LATER + timedelta(days=3)
    case.close(closed_at)
    assert case.closed_at == closed_at
    assert case.status is S.CLOSED


def test_reopening_to_an_agent_assigns_it() -> None:
    case = case_in(S.RESOLVED)

    case.reopen(LATER, assignee_id=OTHER_AGENT)

    assert case.status is S.ASSIGNED
    assert case.assignee_id == OTHER_AGENT
    assert case.reopen_count == 1


@pytest.mark.parametrize("status", [S.BOT, S.QUEUED, S.ASSIGNED, S.PENDING_CUSTOMER, S.CLOSED])
def test_only_a_resolved_case_can_be_reopened(status: CaseStatus) -> None:
    with pytest.raises(IllegalTransition):
        case_in(status).reopen(LATER)


@pytest.mark.parametrize(
    ("status", "since_resolution", "expected"),
    [
        (S.BOT, timedelta(0), True),
        (S.QUEUED, timedelta(0), True),
        (S.ASSIGNED, timedelta(0), True),
        (S.PENDING_CUSTOMER, timedelta(days=30), True),
        (S.RESOLVED, timedelta(hours=71), True),
        (S.RESOLVED, timedelta(hours=72), False),
        (S.RESOLVED, timedelta(days=10), False),
        (S.CLOSED, timedelta(0), False),
    ],
)
def test_a_message_may_continue_an_open_or_recently_resolved_case(
    status: CaseStatus, since_resolution: timedelta, expected: bool
) -> None:
    # given a case in `status` (resolved at T0 when resolved)
    case = case_in(status)
    # when a message arrives `since_resolution` later, with a 72-hour reopen window
    may = case.may_continue(T0 + since_resolution, reopen_window=timedelta(hours=72))
    # then it may thread into the case only while open or inside the window
    assert may is expected


def test_intent_priority_and_segment_are_validated() -> None:
    case = case_in(S.BOT)

    case.set_intent("refund_not_received", LATER)
    case.set_priority(Priority.URGENT, LATER)
    case.set_segment(" Premium ", LATER)

    assert case.intent == "refund_not_received"
    assert case.priority is Priority.URGENT
    assert case.segment == "premium"
    with pytest.raises(InvalidInput):
        case.set_intent("refund not received!", LATER)
    with pytest.raises(InvalidInput):
        case.set_segment("gold & platinum", LATER)


def test_priorities_rank_by_urgency() -> None:
    ranked = sorted(Priority, key=lambda priority: priority.rank)

    assert ranked == [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


def test_a_subject_is_masked_and_cut_to_size() -> None:
    case = case_in(S.BOT)

    case.set_subject("Card 4111 1111 1111 1111 charged twice " + "x" * 400, LATER)

    assert case.subject is not None
    assert case.subject.startswith("Card **** **** **** 1111 charged twice")
    assert len(case.subject) == 300
