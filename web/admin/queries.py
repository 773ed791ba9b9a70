"""Which dead letters an admin means: list parameters and bulk selections,
validated by pydantic, turned into plain filters for the use cases."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from usecases.operations.dead_letter_commands import MAX_BULK
from usecases.operations.dead_letter_search import LetterFilter

MAX_PAGE = 200

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Seconds = Annotated[int, Field(ge=0, le=10 * 365 * 86400)]


class Selection(BaseModel):
    """Filter fields shared by lists and bulk requeues."""

    model_config = ConfigDict(extra="forbid")
    queue: Name | None = None
    reason: Name | None = None
    sender_id: Annotated[int, Field(ge=1)] | None = None
    older_than_seconds: Seconds | None = None
    newer_than_seconds: Seconds | None = None

    def to_filter(self, state: str | None = "dead") -> LetterFilter:
        return LetterFilter(self.queue, self.reason, self.sender_id, self.older_than_seconds,
                            self.newer_than_seconds, state)


class ListQuery(Selection):
    state: Literal["dead", "requeued", "discarded", "any"] = "dead"
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None

    def letter_filter(self) -> LetterFilter:
        return self.to_filter(None if self.state == "any" else self.state)


class BulkRequeue(BaseModel):
    """Either explicit ids or a filter; a filter requeues at most MAX_BULK per call."""

    model_config = ConfigDict(extra="forbid")
    ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=MAX_BULK)] | None = None
    filter: Selection | None = None

    @model_validator(mode="after")
    def one_of(self):
        if (self.ids is None) == (self.filter is None):
            raise ValueError("send either ids or filter")
        return self


def query_args(args, model: type[BaseModel]) -> dict:
    """The known, non-empty query parameters (HTML forms send empty fields)."""
    return {name: args.get(name) for name in model.model_fields if args.get(name) not in (None, "")}
