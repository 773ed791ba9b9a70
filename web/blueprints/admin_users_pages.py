"""Admin pages (server-rendered) for accounts and the audit log: search
users, create business and admin users, one user's page (devices,
sessions, history), disable / enable / revoke sessions / change role after
a confirmation page, reset a password; the audit log filtered by who, what
and when.

Same login, session cookie and CSRF as the dead-letter pages
(web.admin.session, admin_pages): every change is a POST with a CSRF
token, and each view is one use-case call.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError

from pipeline.errors import BadRequest, HeraldError
from usecases.accounts import account_control as control
from usecases.accounts.user_directory import create_account, search_users, user_detail
from usecases.operations.audit import ACTIONS, Actor
from usecases.operations.audit_log import AuditFilter, actor_id_for, audit_page
from web.admin import session
from web.admin.queries import query_args
from web.admin.user_queries import AuditPageQuery, NewPassword, NewRole, NewUser, UserList
from web.blueprints import admin_pages
from web.resources import resources

bp = Blueprint("admin_users", __name__, url_prefix="/admin")
VIA = admin_pages.VIA
# action → (confirmation title, button, use case, flash text)
CONFIRMED = {
    "disable": ("Disable {who}?", "Yes, disable", control.disable, "Disabled {who}: tokens and sockets stopped."),
    "enable": ("Enable {who}?", "Yes, enable", control.enable, "Enabled {who}: they can sign in again."),
    "revoke-sessions": ("Revoke every session of {who}?", "Yes, revoke", control.revoke_sessions,
                        "Revoked the sessions of {who}: tokens and sockets stopped."),
}
bp.before_request(admin_pages.check_csrf)
bp.register_error_handler(CSRFError, admin_pages.csrf_failed)
bp.register_error_handler(ValidationError, admin_pages.invalid_filter)
bp.register_error_handler(HeraldError, admin_pages.herald_error)


def _actor(admin) -> Actor:
    return Actor(admin.id, VIA, request.remote_addr)


@bp.get("/users")
@session.admin_page
def users(admin):
    """Search by phone, username or name; newest first."""
    query = UserList.model_validate(query_args(request.args, UserList))
    page = search_users(resources().ports, query.user_query(), limit=query.limit, cursor=query.cursor)
    return render_template("admin/users.html", admin=admin, query=query, users=page["items"],
                           next_cursor=page["next_cursor"])


@bp.route("/users/new", methods=["GET", "POST"])
@session.admin_page
def new_user(admin):
    """A business or admin account with a password."""
    if request.method == "GET":
        return render_template("admin/user_new.html", admin=admin, form={})
    form = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        user = create_account(resources().ports, _actor(admin), **NewUser.model_validate(form).model_dump())
    except (ValidationError, HeraldError) as e:
        return render_template("admin/user_new.html", admin=admin, form=form, error=_problem(e)), 422
    flash(f"Created {user['role']} {user['username']}.", "success")
    return redirect(url_for(".user", user_id=user["id"]))


@bp.get("/users/<int:user_id>")
@session.admin_page
def user(admin, user_id: int):
    """The account, its devices and sessions, the actions, its history."""
    return render_template("admin/user.html", admin=admin, user=user_detail(resources().ports, user_id))


@bp.get("/users/<int:user_id>/confirm")
@session.admin_page
def confirm(admin, user_id: int):
    """What an action will do, and the button that does it (changes nothing)."""
    action = request.args.get("action")
    if action not in CONFIRMED and action != "role":
        raise BadRequest("unknown action")
    role = NewRole.model_validate({"role": request.args.get("role")}).role if action == "role" else None
    return render_template("admin/user_confirm.html", admin=admin, user=user_detail(resources().ports, user_id),
                           action=action, role=role, title=_title(action, role))


@bp.post("/users/<int:user_id>/disable")
@session.admin_page
def disable(admin, user_id: int):
    return _do(admin, user_id, "disable")


@bp.post("/users/<int:user_id>/enable")
@session.admin_page
def enable(admin, user_id: int):
    return _do(admin, user_id, "enable")


@bp.post("/users/<int:user_id>/revoke-sessions")
@session.admin_page
def revoke_sessions(admin, user_id: int):
    return _do(admin, user_id, "revoke-sessions")


def _do(admin, user_id: int, action: str):
    _, _, command, done = CONFIRMED[action]
    account = command(resources().ports, _actor(admin), user_id)
    flash(done.format(who=_who(account)), "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/role")
@session.admin_page
def change_role(admin, user_id: int):
    role = NewRole.model_validate({"role": request.form.get("role")}).role
    account = control.change_role(resources().ports, _actor(admin), user_id, role)
    flash(f"{_who(account)} is now {account['role']}; their tokens were renewed and sockets closed.", "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@session.admin_page
def password(admin, user_id: int):
    """A new password; the account's sessions end."""
    account = user_detail(resources().ports, user_id)
    if request.method == "GET":
        return render_template("admin/user_password.html", admin=admin, user=account)
    if request.form.get("password") != request.form.get("repeat"):
        return render_template("admin/user_password.html", admin=admin, user=account,
                               error="The two passwords differ."), 422
    try:
        command = NewPassword.model_validate({"password": request.form.get("password", "")})
        control.reset_password(resources().ports, _actor(admin), user_id, command.password)
    except (ValidationError, HeraldError) as e:
        return render_template("admin/user_password.html", admin=admin, user=account, error=_problem(e)), 422
    flash(f"New password set for {_who(account)}; their sessions were revoked.", "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.get("/audit")
@session.admin_page
def audit(admin):
    """Who did what, when: newest first, filtered, a page at a time."""
    query = AuditPageQuery.model_validate(query_args(request.args, AuditPageQuery))
    ports = resources().ports
    actor_id = actor_id_for(ports, query.who) if query.who else None
    if query.who and actor_id is None:
        page = {"items": [], "next_cursor": None}
        flash(f"No user {query.who!r}.", "error")
    else:
        page = audit_page(ports, AuditFilter(actor_id, query.action, query.since, query.until),
                          limit=query.limit, cursor=query.cursor)
    filters = {k: v for k, v in request.args.items() if k in ("who", "action", "since", "until") and v}
    return render_template("admin/audit.html", admin=admin, query=query, entries=page["items"],
                           next_cursor=page["next_cursor"], actions=ACTIONS, filters=filters)


def _title(action: str, role: str | None) -> str:
    if action == "role":
        return "Make {who} " + ("an admin" if role == "admin" else "a business user") + "?"
    return CONFIRMED[action][0]


def _who(account: dict) -> str:
    return account.get("username") or account.get("phone") or account.get("name") or f"user {account['id']}"


def _problem(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return error.detail
