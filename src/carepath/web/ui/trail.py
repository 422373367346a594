"""The case page's access trail for supervisors: the latest reads and changes, with names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carepath.domain.cases import Case
from carepath.domain.users import User
from carepath.storage import UnitOfWork
from carepath.storage.repositories.personal_data import PersonalDataRepository

SHOWN = 20


async def case_trail(uow: UnitOfWork, case: Case, users: Sequence[User]) -> list[dict[str, Any]]:
    rows, _ = await PersonalDataRepository(uow.session).case_trail(
        case.tenant_id, case.id, limit=SHOWN, cursor=None
    )
    names = {f"user:{u.id}": u.display_name for u in users}
    return [{**row, "actor_name": names.get(row["actor"], row["actor"])} for row in rows]
