"""Timestamps are aware UTC in and out of every backend, and written with their offset."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from db.types import UtcDateTime
from pipeline.timestamps import iso

BANGKOK = timezone(timedelta(hours=7))
NOON_UTC = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
aware_moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                             timezones=st.sampled_from([timezone.utc, BANGKOK, timezone(timedelta(hours=-5))]))


def test_iso_writes_the_offset():
    assert iso(NOON_UTC) == "2026-12-02T12:00:00+00:00"
    assert iso(NOON_UTC.astimezone(BANGKOK)) == "2026-12-02T19:00:00+07:00"


def test_iso_keeps_none():
    assert iso(None) is None


def test_iso_refuses_a_naive_datetime_rather_than_write_an_ambiguous_moment():
    with pytest.raises(ValueError):
        iso(NOON_UTC.replace(tzinfo=None))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_a_naive_datetime_is_refused_on_the_way_in(dialect):
    with pytest.raises(ValueError):
        UtcDateTime().process_bind_param(NOON_UTC.replace(tzinfo=None), dialect)


def test_sqlite_is_given_the_utc_digits_of_any_zone():
    bound = UtcDateTime().process_bind_param(NOON_UTC.astimezone(BANGKOK), sqlite.dialect())
    assert bound == datetime(2026, 12, 2, 12, 0)


def test_postgresql_is_given_an_aware_utc_moment():
    bound = UtcDateTime().process_bind_param(NOON_UTC.astimezone(BANGKOK), postgresql.dialect())
    assert bound == NOON_UTC and bound.utcoffset() == timedelta(0)


def test_what_comes_back_is_aware_utc_from_either_backend():
    column = UtcDateTime()
    assert column.process_result_value(datetime(2026, 12, 2, 12, 0), sqlite.dialect()) == NOON_UTC
    read = column.process_result_value(NOON_UTC.astimezone(BANGKOK), postgresql.dialect())
    assert read == NOON_UTC and read.tzinfo is timezone.utc
    assert column.process_result_value(None, sqlite.dialect()) is None


@pytest.fixture(scope="module")
def sqlite_table():
    engine = create_engine("sqlite://")
    table = Table("moments", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
    table.metadata.create_all(engine)
    yield engine, table
    engine.dispose()


@given(aware_moments)
def test_a_moment_survives_a_round_trip_through_sqlite_as_the_same_instant_in_utc(sqlite_table, moment):
    engine, table = sqlite_table
    with engine.begin() as connection:
        row_id = connection.execute(insert(table).values(at=moment)).inserted_primary_key[0]
        read = connection.scalar(select(table.c.at).where(table.c.id == row_id))
    assert read == moment and read.tzinfo is timezone.utc


def test_sqlite_compares_moments_written_in_different_zones_by_instant(sqlite_table):
    engine, table = sqlite_table
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1_000_000, at=NOON_UTC.astimezone(BANGKOK)))
        earlier = connection.scalar(select(table.c.id).where(
            table.c.id == 1_000_000, table.c.at < NOON_UTC + timedelta(minutes=1)))
    assert earlier == 1_000_000
