"""A ring: one encoded frame on its way to a user's live sockets, with what
the edge needs to route it — its stream position and its conversation —
carried beside the text, so no edge process decodes the frame's JSON.

Over Redis pub/sub a ring travels as `"<position>|<conversation_id>|<text>"`
(an empty field for None): the prefix is split off with two `partition`s,
the text is sent to the sockets as it came.
"""

from __future__ import annotations

from typing import NamedTuple

# A ring's text that says "rings may have been lost: read the store". Never
# sent over the wire: the subscriber makes it up after an outage.
RESYNC = ""


class Ring(NamedTuple):
    user_id: int
    position: int | None  # its place in the user's stream; None: ephemeral (typing, presence), never stored
    text: str  # the encoded frame, sent to every socket as is
    conversation_id: int | None = None  # what it is about; None: no conversation (one-way messages, presence)


def pack(ring: Ring) -> str:
    """The pub/sub payload of a ring (its user is the channel)."""
    return f"{_field(ring.position)}|{_field(ring.conversation_id)}|{ring.text}"


def unpack(user_id: int, payload: str) -> Ring:
    """The ring a pub/sub payload carries for `user_id`.

    A payload without the prefix (an older process during a rolling
    deploy) becomes a RESYNC: the socket re-reads its stream rather than
    guess where the frame belongs.
    """
    position, sep, rest = payload.partition("|")
    conversation_id, sep2, text = rest.partition("|")
    if not (sep and sep2) or not _is_field(position) or not _is_field(conversation_id):
        return Ring(user_id, None, RESYNC)
    return Ring(user_id, int(position) if position else None, text,
                int(conversation_id) if conversation_id else None)


def in_scope(conversation_id: int | None, context: int | None) -> bool:
    """Whether a ring about `conversation_id` may reach a socket scoped to
    `context` (None: not scoped). A scoped socket sees only its own
    conversation: not one-way messages, not presence (it asks GET
    /v1/presence, limited to its conversation), not typing elsewhere."""
    return context is None or conversation_id == context


def _field(value: int | None) -> str:
    return "" if value is None else str(value)


def _is_field(text: str) -> bool:
    return text == "" or text.isdigit()
