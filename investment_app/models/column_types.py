"""Column types shared by the tables: exact decimals and enums stored by their values.

PostgreSQL stores an ExactDecimal as NUMERIC(28, 10). SQLite has no exact decimal type (it would
round through a float), so there the value is stored as its canonical text and read back as Decimal.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import Column, Enum, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator):
    """Decimal in, Decimal out, without float rounding on any backend."""

    impl = Numeric(28, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        return dialect.type_descriptor(String(40) if dialect.name == "sqlite" else Numeric(28, 10))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | Decimal | None:
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: str | Decimal | None, dialect: Dialect) -> Decimal | None:
        return value if value is None or isinstance(value, Decimal) else Decimal(value)


def enum_column(enum_type: type[enum.Enum], name: str, default: enum.Enum | None = None) -> Column:
    """A NOT NULL enum column that stores the members' values (e.g. "fifo", not "FIFO")."""
    values = Enum(enum_type, name=name, values_callable=lambda members: [m.value for m in members])
    return Column(values, nullable=False, default=default)
