"""The authorization table of tests/integration/test_chat_authorization.py:
one row per chat endpoint, what each kind of outsider must get.

Targets name objects of the test's World: conversations `direct` (amy–ben,
amy blocked ben), `group` (shop's, with amy and cat), `bens_group` (ben's,
with cat), `shop_direct` (shop–amy); messages `amys` and `bens` (in
`direct`), `oneway` (shop → amy). The scoped persona is amy (shop for
business rows) with a token for `scoped_to`; the stranger is a mobile user
(a business for business rows) who belongs to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

PREFIXES = ("/v1/conversations", "/v1/messages", "/v1/blocks", "/v1/presence")


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str

    def problems(self, answer, world, where: str) -> list[str]:
        got = (answer.status_code, (answer.get_json(silent=True) or {}).get("code"))
        return [] if got == (self.status, self.code) else [f"{where}: expected {self.status} {self.code}, got {got}"]


@dataclass(frozen=True)
class Shows:
    """200, but nothing the caller may not see."""
    what: str
    check: Callable

    def problems(self, answer, world, where: str) -> list[str]:
        if answer.status_code != 200 or not self.check(answer.get_json(), world):
            return [f"{where}: expected 200 showing {self.what}, got {answer.status_code} {answer.get_json()}"]
        return []


@dataclass(frozen=True)
class Allowed:
    """Not a refusal for this persona, and why (the request is not sent)."""
    reason: str


NOT_FOUND = Refusal(404, "not_found")
CANNOT_MESSAGE = Refusal(403, "cannot_message")
FORBIDDEN = Refusal(403, "forbidden")
EXPIRED = Refusal(401, "invalid_token")
# A scoped token on an endpoint not in web.auth.scope.SCOPED_TOKEN_ENDPOINTS,
# whatever conversation the path names (test_scoped_tokens tries every route).
OUT_OF_SCOPE = Refusal(403, "forbidden")
MEMBER = Allowed("still a member: a block stops new words, not the member's own view or filing")
GROUP_ONLY = Allowed("a group: blocks act on direct conversations and on adding the blocker")
OWN_ONLY = Allowed("only ever touches the caller's own rows")


def _ids(body) -> set[int]:
    return {item.get("id", item.get("user_id")) for item in body["items"]}


@dataclass(frozen=True)
class Row:
    stranger: Refusal | Shows | Allowed
    blocked: Refusal | Shows | Allowed
    scoped: Refusal | Shows | Allowed
    conversation: str = "direct"
    message: str = "amys"
    user: str = "cat"
    role: str = "mobile"
    scoped_to: str = "group"
    blocked_conversation: str | None = None
    blocked_message: str | None = None
    body: Callable = lambda world: None
    query: str = ""

    def expect(self, persona: str):
        return EXPIRED if persona == "expired" else getattr(self, persona)

    def target(self, persona: str, kind: str) -> str:
        override = getattr(self, f"blocked_{kind}") if persona == "blocked" else None
        return override or getattr(self, kind)


def on_group(**fields) -> Row:
    return Row(conversation="group", scoped_to="direct", **fields)


C = "/v1/conversations"
ROWS: dict[tuple[str, str], Row] = {
    ("POST", C): Row(
        stranger=Allowed("anyone may start a conversation"), blocked=CANNOT_MESSAGE,
        scoped=OUT_OF_SCOPE, body=lambda w: {"kind": "direct", "with": w.amy.id}),
    ("GET", C): Row(
        stranger=Shows("no conversation", lambda body, w: body["items"] == []), blocked=MEMBER,
        scoped=Shows("only the scoped conversation", lambda body, w: _ids(body) <= {w.conversations["group"]})),
    ("GET", f"{C}/unread-count"): Row(
        stranger=OWN_ONLY, blocked=OWN_ONLY,
        scoped=Shows("none of amy's unread in `direct`", lambda body, w: body == {"unread": 0, "conversations": 0})),
    ("GET", f"{C}/<int:conversation_id>"): Row(stranger=NOT_FOUND, blocked=MEMBER, scoped=NOT_FOUND),
    ("POST", f"{C}/<int:conversation_id>/archive"): Row(stranger=NOT_FOUND, blocked=MEMBER, scoped=OUT_OF_SCOPE),
    ("POST", f"{C}/<int:conversation_id>/unarchive"): Row(stranger=NOT_FOUND, blocked=MEMBER, scoped=OUT_OF_SCOPE),
    ("POST", f"{C}/<int:conversation_id>/close"): Row(stranger=NOT_FOUND, blocked=MEMBER, scoped=OUT_OF_SCOPE),
    ("POST", f"{C}/<int:conversation_id>/leave"): on_group(stranger=NOT_FOUND, blocked=GROUP_ONLY, scoped=OUT_OF_SCOPE),
    ("GET", f"{C}/<int:conversation_id>/members"): on_group(
        stranger=NOT_FOUND, blocked=GROUP_ONLY, scoped=NOT_FOUND),
    ("POST", f"{C}/<int:conversation_id>/members"): on_group(
        stranger=NOT_FOUND, blocked=CANNOT_MESSAGE, scoped=OUT_OF_SCOPE, blocked_conversation="bens_group",
        body=lambda w: {"user_ids": [w.amy.id]}),
    ("DELETE", f"{C}/<int:conversation_id>/members/<int:user_id>"): on_group(
        stranger=NOT_FOUND, blocked=GROUP_ONLY, scoped=OUT_OF_SCOPE),
    ("PATCH", f"{C}/<int:conversation_id>/members/<int:user_id>"): on_group(
        stranger=NOT_FOUND, blocked=GROUP_ONLY, scoped=OUT_OF_SCOPE, body=lambda w: {"role": "admin"}),
    ("POST", f"{C}/<int:conversation_id>/messages"): Row(
        stranger=NOT_FOUND, blocked=CANNOT_MESSAGE, scoped=NOT_FOUND, body=lambda w: {"body": "hello"}),
    ("GET", f"{C}/<int:conversation_id>/messages"): Row(stranger=NOT_FOUND, blocked=MEMBER, scoped=NOT_FOUND),
    ("POST", f"{C}/<int:conversation_id>/read"): Row(
        stranger=NOT_FOUND, blocked=MEMBER, scoped=NOT_FOUND, body=lambda w: {"up_to_seq": 1}),
    ("POST", f"{C}/<int:conversation_id>/scoped-tokens"): Row(
        stranger=NOT_FOUND, blocked=Allowed("businesses issue scoped tokens; ben is not one"), scoped=OUT_OF_SCOPE,
        role="business", conversation="group", scoped_to="shop_direct", body=lambda w: {"user_id": w.amy.id}),
    ("POST", "/v1/messages"): Row(
        stranger=FORBIDDEN, blocked=Allowed("one-way sends are for businesses (test_send_path)"), scoped=OUT_OF_SCOPE,
        body=lambda w: {"to": [w.amy.id], "body": "hi"}),
    ("GET", "/v1/messages"): Row(
        stranger=Shows("none of shop's messages", lambda body, w: body["items"] == []),
        blocked=FORBIDDEN, scoped=OUT_OF_SCOPE, role="business"),
    ("GET", "/v1/messages/<int:message_id>/recipients"): Row(
        stranger=NOT_FOUND, blocked=FORBIDDEN, scoped=OUT_OF_SCOPE, role="business", message="oneway"),
    ("GET", "/v1/messages/<int:message_id>"): Row(
        stranger=NOT_FOUND, blocked=Allowed("the status is the sender's: ben was never shown amy's"),
        scoped=NOT_FOUND),
    ("PATCH", "/v1/messages/<int:message_id>"): Row(
        stranger=NOT_FOUND, blocked=CANNOT_MESSAGE, scoped=NOT_FOUND, blocked_message="bens",
        body=lambda w: {"body": "edited"}),
    ("DELETE", "/v1/messages/<int:message_id>"): Row(
        stranger=NOT_FOUND, blocked=Allowed("a blocked sender may still take back his own words"),
        scoped=NOT_FOUND),
    ("PUT", "/v1/messages/<int:message_id>/reactions/<emoji>"): Row(
        stranger=NOT_FOUND, blocked=CANNOT_MESSAGE, scoped=NOT_FOUND),
    ("DELETE", "/v1/messages/<int:message_id>/reactions/<emoji>"): Row(
        stranger=NOT_FOUND, blocked=Allowed("taking a reaction back says nothing to the blocker"),
        scoped=NOT_FOUND),
    ("POST", "/v1/messages/<int:message_id>/replies"): Row(
        stranger=NOT_FOUND, blocked=Allowed("one-way messages: nobody may reply (test_openapi)"), scoped=OUT_OF_SCOPE,
        message="oneway", body=lambda w: {"body": "thanks"}),
    ("POST", "/v1/blocks"): Row(
        stranger=Allowed("anyone may block anyone"), blocked=OWN_ONLY, scoped=OUT_OF_SCOPE,
        body=lambda w: {"user_id": w.cat.id}),
    ("GET", "/v1/blocks"): Row(stranger=OWN_ONLY, blocked=OWN_ONLY, scoped=OUT_OF_SCOPE),
    ("DELETE", "/v1/blocks/<int:user_id>"): Row(stranger=OWN_ONLY, blocked=OWN_ONLY, scoped=OUT_OF_SCOPE, user="ben"),
    ("GET", "/v1/presence"): Row(
        stranger=Shows("nobody", lambda body, w: body["items"] == []),
        blocked=Shows("not amy, who blocked him", lambda body, w: w.amy.id not in _ids(body)),
        scoped=Shows("only the scoped conversation's members", lambda body, w: w.ben.id not in _ids(body)),
        query="user_ids={amy},{ben}"),
}

POSITIONS = Allowed("a stream position: clamped to what this socket sent, never names a conversation")
FRAMES = {
    "send": lambda c: {"type": "send", "conversation_id": c, "client_msg_id": "x-1", "body": "hi"},
    "read_conversation": lambda c: {"type": "read", "conversation_id": c, "up_to_seq": 1},
    "typing": lambda c: {"type": "typing", "conversation_id": c, "state": "start"},
    "ack": POSITIONS,
    "read": POSITIONS,
    "ping": Allowed("names nothing"),
    "presence": Allowed("the caller's own state"),
}


def chat_endpoints(app) -> list[tuple[str, str]]:
    """(method, rule) of every chat endpoint the app serves."""
    return sorted({(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIXES)
                   for method in rule.methods - {"HEAD", "OPTIONS"}})
