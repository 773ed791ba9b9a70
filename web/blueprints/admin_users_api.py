"""Admin JSON API for accounts and the audit log: search, create, disable
and enable, reset a password, revoke sessions, change a role; read the
audit log. Admins only (bearer tokens; everyone else 403); every change is
audited in its own transaction."""

from __future__ import annotations

from flask import Blueprint, request

from usecases.accounts import account_control as control
from usecases.accounts.user_directory import create_account, search_users, user_detail
from usecases.operations.audit import Actor
from usecases.operations.audit_log import audit_page
from web.admin.queries import query_args
from web.admin.user_queries import AuditList, NewPassword, NewRole, NewUser, UserList
from web.auth.identity import caller, requires
from web.requests import parse
from web.resources import resources

bp = Blueprint("admin_users_api", __name__, url_prefix="/v1/admin")
VIA = "api"


def _actor() -> Actor:
    return Actor(caller().user_id, VIA, request.remote_addr)


@bp.get("/users")
@requires("admin")
def list_users():
    """Accounts matching a phone, username or name, newest first."""
    query = UserList.model_validate(query_args(request.args, UserList))
    return search_users(resources().ports, query.user_query(), limit=query.limit, cursor=query.cursor)


@bp.post("/users")
@requires("admin")
def create_user():
    """A business or admin account with a password."""
    command, _ = parse(NewUser)
    return create_account(resources().ports, _actor(), **command.model_dump()), 201


@bp.get("/users/<int:user_id>")
@requires("admin")
def get_user(user_id: int):
    """The account, its devices, live sessions and latest audit entries."""
    return user_detail(resources().ports, user_id)


@bp.post("/users/<int:user_id>/disable")
@requires("admin")
def disable_user(user_id: int):
    return control.disable(resources().ports, _actor(), user_id)


@bp.post("/users/<int:user_id>/enable")
@requires("admin")
def enable_user(user_id: int):
    return control.enable(resources().ports, _actor(), user_id)


@bp.post("/users/<int:user_id>/password")
@requires("admin")
def reset_password(user_id: int):
    command, _ = parse(NewPassword)
    return control.reset_password(resources().ports, _actor(), user_id, command.password)


@bp.post("/users/<int:user_id>/revoke-sessions")
@requires("admin")
def revoke_sessions(user_id: int):
    return control.revoke_sessions(resources().ports, _actor(), user_id)


@bp.post("/users/<int:user_id>/role")
@requires("admin")
def change_role(user_id: int):
    command, _ = parse(NewRole)
    return control.change_role(resources().ports, _actor(), user_id, command.role)


@bp.get("/audit")
@requires("admin")
def list_audit():
    """Audit entries newest first, filtered by actor, action and time range."""
    query = AuditList.model_validate(query_args(request.args, AuditList))
    return audit_page(resources().ports, query.audit_filter(), limit=query.limit, cursor=query.cursor)
