"""The declarative base and the column types every table shares."""

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import DeclarativeBase

from db.types import UtcDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY columns.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Every timestamp column: aware UTC in and out, on PostgreSQL and SQLite alike.
Timestamp = UtcDateTime()


class Base(DeclarativeBase):
    pass
