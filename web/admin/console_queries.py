"""What the console's message and conversation searches accept: query
parameters validated by pydantic, turned into the use cases' queries.

Times come from the browser's datetime-local fields (no zone): the
console shows and reads UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from pipeline import status as statuses
from usecases.operations.conversation_admin import ConversationQuery
from usecases.operations.message_search import MessageQuery

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[int, Field(ge=1)]
Limit = Annotated[int, Field(ge=1, le=200)]
Status = Literal[statuses.ALL]  # type: ignore[valid-type]


class MessageSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: Id | None = None
    sender: Text | None = None
    recipient_phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32)] | None = None
    status: Status | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: Id | None = None
    limit: Limit = 50

    @field_validator("since", "until")
    @classmethod
    def utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value and value.tzinfo is None else value

    def to_query(self) -> MessageQuery:
        return MessageQuery(self.message_id, self.sender, self.recipient_phone, self.status, self.since, self.until,
                            self.cursor, self.limit)


class ConversationSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: Id | None = None
    member: Text | None = None
    title: Text | None = None
    context_ref: Text | None = None
    kind: Literal["direct", "group"] | None = None
    status: Literal["active", "closed"] | None = None
    cursor: Id | None = None
    limit: Limit = 50

    def to_query(self) -> ConversationQuery:
        return ConversationQuery(self.conversation_id, self.member, self.title, self.context_ref, self.kind,
                                 self.status, self.cursor, self.limit)


def given(search: BaseModel) -> dict:
    """The filters set, for links to the next page (the cursor and limit left out)."""
    return {k: (v.strftime("%Y-%m-%dT%H:%M") if isinstance(v, datetime) else v)
            for k, v in search.model_dump().items() if v is not None and k not in ("cursor", "limit")}
