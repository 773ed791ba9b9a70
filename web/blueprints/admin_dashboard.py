"""Admin pages: the dashboard — the pipeline's live figures, rendered once
and refreshed by the page's script from `dashboard.json` every few seconds."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import render_template

from usecases.operations.dashboard import dashboard_figures
from web.admin import session
from web.admin.pages import admin_blueprint
from web.resources import resources

bp = admin_blueprint("admin_dashboard", __name__)
REFRESH_SECONDS = 3


def _figures() -> dict:
    res = resources()
    return dashboard_figures(res.ports, res.pipeline_status, datetime.now(timezone.utc))


@bp.get("/dashboard")
@session.admin_page
def dashboard(admin):
    return render_template("admin/dashboard.html", admin=admin, figures=_figures(), refresh=REFRESH_SECONDS)


@bp.get("/dashboard.json")
@session.admin_page
def figures(admin):
    return _figures(), 200, {"Cache-Control": "no-store"}
