"""What every admin page blueprint shares with the dead-letter pages: the
CSRF check on each POST and the error pages (the login session is
web.admin.session's `admin_page`)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError

from pipeline.errors import HeraldError
from web.admin import session


def admin_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /admin whose POSTs need the session's CSRF token."""
    bp = Blueprint(name, import_name, url_prefix="/admin")
    # The dead-letter pages set the session and CSRF up; whichever registers first does it once.
    bp.record_once(lambda state: None if "csrf" in state.app.extensions else session.init_app(state.app))

    @bp.before_request
    def check_csrf():
        if request.method == "POST":
            session.csrf.protect()

    bp.register_error_handler(CSRFError, _csrf_failed)
    bp.register_error_handler(ValidationError, _invalid_filter)
    bp.register_error_handler(HeraldError, _herald_error)
    return bp


def _csrf_failed(error):
    return render_template("admin/error.html", title="Form expired",
                           detail="This form is too old or was not sent from this site. Go back, reload, and try again."), 400


def _invalid_filter(error: ValidationError):
    return render_template("admin/error.html", title="Invalid filter",
                           detail="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())), 422


def _herald_error(error: HeraldError):
    return render_template("admin/error.html", title=error.title, detail=error.detail), error.status
