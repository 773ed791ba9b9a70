"""Admin pages (server-rendered): log in, list and inspect dead letters,
requeue or discard them after a confirmation page.

Every change is a POST carrying a CSRF token; confirmation pages are GETs
that change nothing. Views share their commands with the admin JSON API.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError

from pipeline.errors import BadRequest, HeraldError
from usecases.accounts.logins import admin_by_password
from usecases.operations import dead_letter_commands as commands
from usecases.operations import dead_letter_views as views
from usecases.operations.audit import Actor
from web.admin import forms, session
from web.admin.queries import MAX_BULK, ListQuery, query_args
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
    return redirect(url_for("admin_dashboard.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;100/hour", methods=["POST"])
def login():
    """Username and password of an admin account; then back where they were going."""
    if request.method == "GET":
        return render_template("admin/login.html")
    username, password = request.form.get("username", "")[:64], request.form.get("password", "")[:1024]
    user = admin_by_password(resources().ports, username, password, Actor(None, VIA, request.remote_addr))
    if user is None:
        return render_template("admin/login.html",
                               error="Wrong username or password, not an admin account, or a disabled one.",
                               username=username), 401
    session.log_in(user)
    return redirect(forms.local(request.args.get("next")) or url_for("admin_dashboard.dashboard"))


@bp.post("/logout")
def logout():
    session.log_out()
    flash("You are logged out.", "info")
    return redirect(url_for(".login"))


@bp.get("/dead-letters")
@session.admin_page
def dead_letters(admin):
    """Newest first, filtered, a page at a time."""
    query, ports = ListQuery.model_validate(query_args(request.args, ListQuery)), resources().ports
    page = views.dead_letters_page(ports, query.letter_filter(), limit=query.limit, cursor=query.cursor)
    choices = views.filter_choices(ports)
    return render_template("admin/dead_letters.html", admin=admin, query=query, filters=forms.filters(query),
                           letters=page["items"], next_cursor=page["next_cursor"], queues=choices.queues,
                           reasons=choices.reasons)


@bp.get("/dead-letters/<int:letter_id>")
@session.admin_page
def dead_letter(admin, letter_id: int):
    """The job's payload and every error and action recorded."""
    letter = views.dead_letter(resources().ports, letter_id)
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
    ports = resources().ports
    letters = views.summaries(ports, ids) if ids else []
    matching = views.matching_count(ports, selection.to_filter()) if not ids else 0
    return render_template("admin/confirm.html", admin=admin, action=action, ids=ids, letters=letters,
                           matching=matching, cap=MAX_BULK, filters=forms.filters(selection))


@bp.post("/dead-letters/requeue")
@session.admin_page
def requeue(admin):
    selection = forms.selection(request.form)
    if request.form.get("scope") == "matching":
        bulk = commands.requeue_matching(resources().ports, selection.to_filter(), Actor(admin.id, VIA))
    else:
        bulk = commands.requeue_ids(resources().ports, forms.ids(request.form), Actor(admin.id, VIA))
    flash(forms.requeued_text(bulk), "success")
    return redirect(url_for(".dead_letters", **forms.filters(selection)))


@bp.post("/dead-letters/discard")
@session.admin_page
def discard(admin):
    ids = forms.ids(request.form)
    discarded = commands.discard_ids(resources().ports, ids, Actor(admin.id, VIA))
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
