"""Admin pages: search messages, and one message's full story (every
recipient's timeline, pushes, jobs, dead letters and what admins did)."""

from __future__ import annotations

from flask import render_template, request

from usecases.operations.message_search import EXAMINED, search_messages
from usecases.operations.message_story import message_story
from web.admin import session
from web.admin.console_queries import MessageSearch, given
from web.admin.pages import admin_blueprint
from web.admin.queries import query_args
from web.resources import resources

bp = admin_blueprint("admin_messages", __name__)


@bp.get("/messages")
@session.admin_page
def messages(admin):
    """Newest first; no filter lists the latest messages."""
    search = MessageSearch.model_validate(query_args(request.args, MessageSearch))
    page = search_messages(resources().ports, search.to_query())
    return render_template("admin/messages.html", admin=admin, search=search, filters=given(search), page=page,
                           examined=EXAMINED)


@bp.get("/messages/<int:message_id>")
@session.admin_page
def message(admin, message_id: int):
    recipient = request.args.get("recipient", type=int)
    story = message_story(resources().ports, message_id, recipient)
    return render_template("admin/message.html", admin=admin, story=story, recipient=recipient)
