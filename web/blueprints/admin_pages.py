"""Admin pages (server-rendered): log in, list and inspect dead letters,
requeue or discard them after a confirmation page.

Every change is a POST carrying a CSRF token; confirmation pages are GETs
that change nothing. Views share their commands with the admin JSON API.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError

from usecases.operations.dead_letter_search import (count_matching, distinct_values, get_letter, letter_detail,
                                           letter_summary, list_page, summaries_of)
from usecases.accounts.sign_in import user_by_username
from db.engine import UnitOfWork
from db.models import DeadLetter
from pipeline.errors import BadRequest, HeraldError, InvalidCredentials
from web.admin import commands, forms, session
from web.admin.queries import MAX_BULK, ListQuery, query_args
from web.auth.passwords import check_password_login
from web.extensions import limiter
from web.resources import resources

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")
VIA = "admin_page"
ACTIONS = ("requeue", "discard", "requeue-matching")
bp.record_once(lambda state: session.init_app(state.app))


@bp.before_request
def check_csrf():
    if request.method == "POST":
        session.csrf.protect()


@bp.get("")
def home():
    return redirect(url_for(".dead_letters"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;100/hour", methods=["POST"])
def login():
    """Username and password of an admin account; then back where they were going."""
    if request.method == "GET":
        return render_template("admin/login.html")
    username, password = request.form.get("username", "")[:64], request.form.get("password", "")[:1024]
    with UnitOfWork(resources().sessions) as uow:
        try:
            user = check_password_login(user_by_username(uow.session, username), password)
        except InvalidCredentials:
            user = None
    if user is None or user.role != "admin":
        return render_template("admin/login.html", error="Wrong username or password, or not an admin account.",
                               username=username), 401
    session.log_in(user)
    return redirect(forms.local(request.args.get("next")) or url_for(".dead_letters"))


@bp.post("/logout")
def logout():
    session.log_out()
    flash("You are logged out.", "info")
    return redirect(url_for(".login"))


@bp.get("/dead-letters")
@session.admin_page
def dead_letters(admin):
    """Newest first, filtered, a page at a time."""
    query = ListQuery.model_validate(query_args(request.args, ListQuery))
    with UnitOfWork(resources().sessions) as uow:
        page = list_page(uow.session, query.letter_filter(), now=_now(), limit=query.limit, cursor=query.cursor)
        queues = distinct_values(uow.session, DeadLetter.queue_name)
        reasons = distinct_values(uow.session, DeadLetter.reason)
    return render_template("admin/dead_letters.html", admin=admin, query=query, filters=forms.filters(query),
                           letters=[letter_summary(letter) for letter in page.letters],
                           next_cursor=page.next_cursor, queues=queues, reasons=reasons)


@bp.get("/dead-letters/<int:letter_id>")
@session.admin_page
def dead_letter(admin, letter_id: int):
    """The job's payload and every error and action recorded."""
    with UnitOfWork(resources().sessions) as uow:
        letter = letter_detail(uow.session, get_letter(uow.session, letter_id))
    return render_template("admin/dead_letter.html", admin=admin, letter=letter)


@bp.get("/dead-letters/confirm")
@session.admin_page
def confirm(admin):
    """What an action will do, and the button that does it."""
    action, selection = request.args.get("action"), forms.selection(request.args)
    if action not in ACTIONS:
        raise BadRequest("unknown action")
    if action != "requeue-matching" and not request.args.getlist("ids"):
        flash("Select at least one dead letter first.", "error")
        return redirect(url_for(".dead_letters", **forms.filters(selection)))
    ids = [] if action == "requeue-matching" else forms.ids(request.args)
    with UnitOfWork(resources().sessions) as uow:
        letters = summaries_of(uow.session, ids) if ids else []
        matching = count_matching(uow.session, selection.to_filter(), _now()) if not ids else 0
    return render_template("admin/confirm.html", admin=admin, action=action, ids=ids, letters=letters,
                           matching=matching, cap=MAX_BULK, filters=forms.filters(selection))


@bp.post("/dead-letters/requeue")
@session.admin_page
def requeue(admin):
    selection = forms.selection(request.form)
    if request.form.get("scope") == "matching":
        bulk = commands.requeue_matching(selection.to_filter(), commands.acting(admin.id, VIA))
    else:
        bulk = commands.requeue_ids(forms.ids(request.form), commands.acting(admin.id, VIA))
    flash(forms.requeued_text(bulk), "success")
    return redirect(url_for(".dead_letters", **forms.filters(selection)))


@bp.post("/dead-letters/discard")
@session.admin_page
def discard(admin):
    ids = forms.ids(request.form)
    discarded = commands.discard_ids(ids, commands.acting(admin.id, VIA))
    flash(f"Discarded {forms.letters(discarded)}." + forms.skipped_text(len(set(ids)) - discarded), "success")
    return redirect(url_for(".dead_letters", **forms.filters(forms.selection(request.form))))


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    return render_template("admin/error.html", title="Form expired",
                           detail="This form is too old or was not sent from this site. Go back, reload, and try again."), 400


@bp.errorhandler(ValidationError)
def invalid_filter(error):
    return render_template("admin/error.html", title="Invalid filter",
                           detail="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())), 422


@bp.errorhandler(HeraldError)
def herald_error(error: HeraldError):
    return render_template("admin/error.html", title=error.title, detail=error.detail), error.status


def _now() -> datetime:
    return datetime.now(timezone.utc)
