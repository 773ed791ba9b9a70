"""Query arguments of list endpoints: page size and yes/no filters."""

from __future__ import annotations

from flask import request

from pipeline.errors import BadRequest

PAGE_DEFAULT, PAGE_MAX = 50, 100


def page_limit() -> int:
    """`?limit=`, 1 to 100, 50 when absent.

    Raises:
        BadRequest: anything else.
    """
    raw = request.args.get("limit", "")
    if raw == "":
        return PAGE_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX:
        raise BadRequest(f"limit must be an integer from 1 to {PAGE_MAX}")
    return int(raw)


def flag(name: str) -> bool:
    """`?name=true|false`, false when absent.

    Raises:
        BadRequest: anything else.
    """
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return raw == "true"
