"""Admin JSON API for dead letters: list, inspect, requeue, discard.

Admins only (bearer tokens; everyone else 403). Requeues commit a fresh
outbox row per job, then publish it; the outbox sweeper repairs a lost
publish.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, request

from usecases.operations.dead_letter_search import get_letter, letter_detail, letter_summary, list_page
from db.engine import UnitOfWork
from web.admin import commands
from web.admin.queries import BulkRequeue, ListQuery, query_args
from web.auth.identity import caller, requires
from web.requests import parse
from web.resources import resources

bp = Blueprint("admin_api", __name__, url_prefix="/v1/admin/dead-letters")
VIA = "api"


@bp.get("")
@requires("admin")
def list_dead_letters():
    """Dead letters, newest first, filtered, one page at a time."""
    query = ListQuery.model_validate(query_args(request.args, ListQuery))
    with UnitOfWork(resources().sessions) as uow:
        page = list_page(uow.session, query.letter_filter(), now=datetime.now(timezone.utc), limit=query.limit,
                         cursor=query.cursor)
        return {"items": [letter_summary(letter) for letter in page.letters], "next_cursor": page.next_cursor}


@bp.get("/<int:letter_id>")
@requires("admin")
def get_dead_letter(letter_id: int):
    """Everything recorded of one dead letter: args, errors, attempts, times, history."""
    with UnitOfWork(resources().sessions) as uow:
        return letter_detail(uow.session, get_letter(uow.session, letter_id))


@bp.post("/<int:letter_id>/requeue")
@requires("admin")
def requeue_dead_letter(letter_id: int):
    """Requeue one dead letter; 409 when it is not dead any more."""
    return commands.requeue_one(letter_id, commands.acting(caller().user_id, VIA))


@bp.post("/requeue")
@requires("admin")
def requeue_dead_letters():
    """Requeue the dead letters named by ids, or those matching a filter (at most 1000 a call)."""
    command, _ = parse(BulkRequeue)
    if command.ids is not None:
        bulk = commands.requeue_ids(command.ids, commands.acting(caller().user_id, VIA))
    else:
        bulk = commands.requeue_matching(command.filter.to_filter(), commands.acting(caller().user_id, VIA))
    return commands.bulk_answer(bulk)


@bp.post("/<int:letter_id>/discard")
@requires("admin")
def discard_dead_letter(letter_id: int):
    """Give up on one dead letter for good; 409 when it is not dead any more."""
    return commands.discard_one(letter_id, commands.acting(caller().user_id, VIA))
