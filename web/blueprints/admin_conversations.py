"""Admin pages: search conversations, read one, close or reopen it (a
POST with the CSRF token, audited, the members told)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from pipeline.conversations import ACTIVE, CLOSED
from usecases.operations.conversation_admin import (EXAMINED, conversation_detail, search_conversations,
                                                    set_status_as_admin)
from web.admin import session
from web.admin.console_queries import ConversationSearch, given
from web.admin.pages import admin_blueprint
from web.admin.queries import query_args
from web.resources import resources

bp = admin_blueprint("admin_conversations", __name__)
VIA = "admin_page"


@bp.get("/conversations")
@session.admin_page
def conversations(admin):
    search = ConversationSearch.model_validate(query_args(request.args, ConversationSearch))
    page = search_conversations(resources().ports, search.to_query())
    return render_template("admin/conversations.html", admin=admin, search=search, filters=given(search),
                           page=page, examined=EXAMINED)


@bp.get("/conversations/<int:conversation_id>")
@session.admin_page
def conversation(admin, conversation_id: int):
    detail = conversation_detail(resources().ports, conversation_id)
    return render_template("admin/conversation.html", admin=admin, conversation=detail)


@bp.post("/conversations/<int:conversation_id>/close")
@session.admin_page
def close(admin, conversation_id: int):
    changed = set_status_as_admin(resources().ports, conversation_id, admin.id, CLOSED, VIA)
    flash("Conversation closed; its members were told." if changed else "It was closed already.", "success")
    return redirect(url_for(".conversation", conversation_id=conversation_id))


@bp.post("/conversations/<int:conversation_id>/reopen")
@session.admin_page
def reopen(admin, conversation_id: int):
    changed = set_status_as_admin(resources().ports, conversation_id, admin.id, ACTIVE, VIA)
    flash("Conversation reopened; its members were told." if changed else "It was open already.", "success")
    return redirect(url_for(".conversation", conversation_id=conversation_id))
