"""What the admin API and pages read of dead letters: pages, details, the
filter choices and the confirmation counts, each in its own unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from db.engine import UnitOfWork
from db.models import DeadLetter
from usecases.operations.dead_letter_search import (LetterFilter, count_matching, distinct_values, get_letter,
                                                    letter_detail, letter_summary, list_page, summaries_of)
from usecases.ports import Ports


@dataclass(frozen=True)
class FilterChoices:
    """Values seen, offered as filter suggestions."""

    queues: list[str]
    reasons: list[str]


def dead_letters_page(ports: Ports, letter_filter: LetterFilter, *, limit: int, cursor: str | None) -> dict:
    """Newest first: `items` (summaries) and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    with UnitOfWork(ports.sessions) as uow:
        page = list_page(uow.session, letter_filter, now=datetime.now(timezone.utc), limit=limit, cursor=cursor)
        return {"items": [letter_summary(letter) for letter in page.letters], "next_cursor": page.next_cursor}


def dead_letter(ports: Ports, letter_id: int) -> dict:
    """Everything recorded of one dead letter, its history included.

    Raises:
        NotFound: no such dead letter.
    """
    with UnitOfWork(ports.sessions) as uow:
        return letter_detail(uow.session, get_letter(uow.session, letter_id))


def filter_choices(ports: Ports) -> FilterChoices:
    with UnitOfWork(ports.sessions) as uow:
        return FilterChoices(distinct_values(uow.session, DeadLetter.queue_name),
                             distinct_values(uow.session, DeadLetter.reason))


def summaries(ports: Ports, ids: list[int]) -> list[dict]:
    """The summaries of those of `ids` that exist, newest first."""
    with UnitOfWork(ports.sessions) as uow:
        return summaries_of(uow.session, ids)


def matching_count(ports: Ports, letter_filter: LetterFilter) -> int:
    with UnitOfWork(ports.sessions) as uow:
        return count_matching(uow.session, letter_filter, datetime.now(timezone.utc))
