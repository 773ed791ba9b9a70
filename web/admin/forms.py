"""Reading the admin pages' forms and writing their messages: selections
of dead letters, filters carried through links, flash texts."""

from __future__ import annotations

from pipeline.errors import BadRequest
from web.admin.queries import MAX_BULK, Selection, query_args


def selection(values) -> Selection:
    return Selection.model_validate(query_args(values, Selection))


def filters(chosen: Selection) -> dict:
    """The filter as query parameters, for links and hidden fields."""
    return {k: v for k, v in chosen.model_dump().items() if k in Selection.model_fields and v is not None}


def ids(values) -> list[int]:
    """Raises: BadRequest: no ids, too many, or one that is not a number."""
    raw = values.getlist("ids")
    if not raw or len(raw) > MAX_BULK or not all(v.isdigit() for v in raw):
        raise BadRequest(f"select between 1 and {MAX_BULK} dead letters")
    return sorted({int(v) for v in raw})


def requeued_text(bulk) -> str:
    more = f" More match: requeue again for the next {MAX_BULK}." if bulk.truncated else ""
    return f"Requeued {letters(len(bulk.requeued_ids))}." + skipped_text(bulk.skipped) + more


def skipped_text(skipped: int) -> str:
    return f" {letters(skipped)} no longer dead, skipped." if skipped else ""


def letters(count: int) -> str:
    return f"{count} dead letter{'' if count == 1 else 's'}"


def local(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    return target if target and target.startswith("/admin") and "//" not in target and "\\" not in target else None
