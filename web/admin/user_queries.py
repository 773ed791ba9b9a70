"""What an admin asks of accounts and of the audit log: list parameters and
commands, validated by pydantic, turned into the use cases' filters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from usecases.accounts.user_directory import UserQuery
from usecases.operations.audit_log import AuditFilter
from web.admin.queries import MAX_PAGE

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Cursor = Annotated[str, StringConstraints(max_length=200)]
# Long enough to resist guessing offline; argon2 takes whatever is longer.
Password = Annotated[str, StringConstraints(min_length=12, max_length=1024)]
PasswordRole = Literal["business", "admin"]


class UserList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: Text | None = None
    role: Literal["mobile", "business", "admin"] | None = None
    disabled: bool | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    cursor: Cursor | None = None

    def user_query(self) -> UserQuery:
        return UserQuery(self.q, self.role, self.disabled)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: PasswordRole
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                               pattern=r"^[A-Za-z0-9._@-]+$")]
    password: Password
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32)] | None = None


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password


class NewRole(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: PasswordRole


class AuditList(BaseModel):
    """`actor_id` 0 is the system (no actor); `action` ending in "." is a prefix."""

    model_config = ConfigDict(extra="forbid")
    actor_id: Annotated[int, Field(ge=0)] | None = None
    action: Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z_.]+$")] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    cursor: Cursor | None = None

    def audit_filter(self) -> AuditFilter:
        return AuditFilter(self.actor_id, self.action, self.since, self.until)


class AuditPageQuery(BaseModel):
    """The audit page's form: `who` is an id, a username or "system";
    times are the browser's datetime-local fields, read as UTC."""

    model_config = ConfigDict(extra="forbid")
    who: Text | None = None
    action: Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z_.]+$")] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    cursor: Cursor | None = None

    @field_validator("since", "until")
    @classmethod
    def utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value
