"""Admin JSON API for dead letters: list, inspect, requeue, discard.

Admins only (bearer tokens; everyone else 403). Requeues commit a fresh
outbox row per job, then publish it; the outbox sweeper repairs a lost
publish.
"""

from __future__ import annotations

from flask import Blueprint, request

from usecases.operations import dead_letter_commands as commands
from usecases.operations.audit import Actor
from usecases.operations.dead_letter_views import dead_letter, dead_letters_page
from web.admin.queries import BulkRequeue, ListQuery, query_args
from web.auth.identity import caller, requires
from web.requests import parse
from web.resources import resources

bp = Blueprint("admin_api", __name__, url_prefix="/v1/admin/dead-letters")
VIA = "api"


def _actor() -> Actor:
    return Actor(caller().user_id, VIA)


@bp.get("")
@requires("admin")
def list_dead_letters():
    """Dead letters, newest first, filtered, one page at a time."""
    query = ListQuery.model_validate(query_args(request.args, ListQuery))
    return dead_letters_page(resources().ports, query.letter_filter(), limit=query.limit, cursor=query.cursor)


@bp.get("/<int:letter_id>")
@requires("admin")
def get_dead_letter(letter_id: int):
    """Everything recorded of one dead letter: args, errors, attempts, times, history."""
    return dead_letter(resources().ports, letter_id)


@bp.post("/<int:letter_id>/requeue")
@requires("admin")
def requeue_dead_letter(letter_id: int):
    """Requeue one dead letter; 409 when it is not dead any more."""
    return commands.requeue_one(resources().ports, letter_id, _actor())


@bp.post("/requeue")
@requires("admin")
def requeue_dead_letters():
    """Requeue the dead letters named by ids, or those matching a filter (at most 1000 a call)."""
    command, _ = parse(BulkRequeue)
    if command.ids is not None:
        bulk = commands.requeue_ids(resources().ports, command.ids, _actor())
    else:
        bulk = commands.requeue_matching(resources().ports, command.filter.to_filter(), _actor())
    return commands.bulk_answer(bulk)


@bp.post("/<int:letter_id>/discard")
@requires("admin")
def discard_dead_letter(letter_id: int):
    """Give up on one dead letter for good; 409 when it is not dead any more."""
    return commands.discard_one(resources().ports, letter_id, _actor())
