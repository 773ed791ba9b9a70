"""Throwaway resources on the real local services: a PostgreSQL database,
a RabbitMQ virtual host and a Redis database per test session."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP_ROOT = "amqp://guest:guest@127.0.0.1:5672"


def create_database() -> str:
    name = f"herald_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_vhost() -> str:
    name = f"herald-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)
    return f"{AMQP_ROOT}/{name}"


def delete_vhost(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


def redis_url() -> str:
    # Redis keeps nothing on disk here; one numbered database per run and
    # our keys are prefixed, so a flush of that database is safe.
    return "redis://127.0.0.1:6379/9"


def bench_redis_url() -> str:
    # The counting bench's keys (presence) must outlive a run: test sessions
    # flush database 9 when they start, so it keeps its namespace in 10.
    return "redis://127.0.0.1:6379/10"
