"""What carepath stored, read straight from the database (for assertions only)."""

from __future__ import annotations

from sqlalchemy import select

from carepath.domain.cases import Case
from carepath.domain.customers import Customer
from carepath.domain.messages import Message
from carepath.storage import Database
from carepath.storage.tables import cases, messages


async def all_messages(db: Database) -> list[Message]:
    async with db.uow(write=False) as uow:
        query = select(Message).order_by(messages.c.created_at, messages.c.id)
        return list((await uow.session.scalars(query)).all())


async def all_cases(db: Database) -> list[Case]:
    async with db.uow(write=False) as uow:
        return list((await uow.session.scalars(select(Case).order_by(cases.c.id))).all())


async def all_customers(db: Database) -> list[Customer]:
    async with db.uow(write=False) as uow:
        return list((await uow.session.scalars(select(Customer))).all())
