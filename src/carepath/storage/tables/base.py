"""What every table module shares: the metadata and its naming convention, id and enum types."""

from __future__ import annotations

import enum

from sqlalchemy import (
    Enum,
    MetaData,
    String,
)

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(40)


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A StrEnum stored as its value in a VARCHAR (no native ENUM type to migrate on PostgreSQL)."""
    return Enum(enum_class, native_enum=False, length=20, values_callable=_enum_values)


def _enum_values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]
