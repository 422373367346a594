"""Domain objects for unit tests, valid unless a test changes what it is about."""

from __future__ import annotations

from datetime import UTC, datetime

from carepath.domain import Case, CaseStatus, Channel
from carepath.ids import CustomerId, TenantId, UserId

TENANT = TenantId("ten_test")
CUSTOMER = CustomerId("cus_test")
AGENT = UserId("usr_agent")
OTHER_AGENT = UserId("usr_other")
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def case_in(status: CaseStatus, *, assignee: UserId | None = AGENT) -> Case:
    """A case brought to `status` through legal moves only."""
    case = Case.open(TENANT, CUSTOMER, Channel.CHAT, now=T0)
    if status is CaseStatus.BOT:
        return case
    if status is CaseStatus.QUEUED:
        case.hand_off(T0)
        return case
    case.assign(assignee or AGENT, T0)
    if status is CaseStatus.PENDING_CUSTOMER:
        case.wait_for_customer(T0)
    elif status is CaseStatus.RESOLVED:
        case.resolve(T0)
    elif status is CaseStatus.CLOSED:
        case.resolve(T0)
        case.close(T0)
    return case
