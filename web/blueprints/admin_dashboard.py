"""Admin pages: the dashboard (live figures of the pipeline)."""

from __future__ import annotations

from flask import render_template

from web.admin import session
from web.admin.pages import admin_blueprint

bp = admin_blueprint("admin_dashboard", __name__)


@bp.get("/dashboard")
@session.admin_page
def dashboard(admin):
    return render_template("admin/dashboard.html", admin=admin, figures={})


@bp.get("/dashboard.json")
@session.admin_page
def figures(admin):
    return {}
