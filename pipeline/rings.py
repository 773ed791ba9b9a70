"""A ring: one encoded frame on its way to a user's live sockets, with what
the edge needs to route it — its stream position and its conversation —
carried beside the text, so no edge process decodes the frame's JSON.

Over Redis pub/sub a ring travels as `"<position>|<conversation_id>|<text>"`
(an empty field for None): the prefix is split off with two `partition`s,
the text is sent to the sockets as it came.

A peal is one frame to many users at once (a message or event to a large
group): the frame's text differs per user only by the stream position, so
it travels once, as the text around the position and the (user, position)
pairs, to every edge process; each builds the frames of the users it holds
by splicing the position in (no JSON encoded or decoded per socket). Over
Redis: `"<conversation_id>|<user>:<position>,…|<head>\0<tail>"` on one
channel every edge process hears (a JSON text never holds a raw NUL).
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

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


# From this many users up, a frame goes as one peal instead of a ring per
# user: every edge process hears a peal, so a small audience is cheaper
# rung per user (one pipelined round trip either way).
PEAL_MIN_USERS = 32
_SPLICE = "\0"


class Peal(NamedTuple):
    """One frame to many users: each user's text is head + position + tail."""

    members: tuple[tuple[int, int], ...]  # (user id, position in that user's stream)
    head: str
    tail: str
    conversation_id: int | None = None

    def text(self, position: int) -> str:
        return f"{self.head}{position}{self.tail}"

    def rings(self, users=None) -> Iterator[Ring]:
        """The rings of the peal's users (of those in `users`, when given)."""
        for user_id, position in self.members:
            if users is None or user_id in users:
                yield Ring(user_id, position, self.text(position), self.conversation_id)


def ring_all(members: list[tuple[int, int]], head: str, tail: str,
             conversation_id: int | None = None) -> list[Ring | Peal]:
    """One frame (head + position + tail) to each (user, position): one peal
    for a large audience, a ring per user for a small one."""
    if len(members) >= PEAL_MIN_USERS:
        return [Peal(tuple(members), head, tail, conversation_id)]
    return [Ring(user_id, position, f"{head}{position}{tail}", conversation_id) for user_id, position in members]


def pack_peal(peal: Peal) -> str:
    pairs = ",".join(f"{user_id}:{position}" for user_id, position in peal.members)
    return f"{_field(peal.conversation_id)}|{pairs}|{peal.head}{_SPLICE}{peal.tail}"


def unpack_peal(payload: str) -> Peal | None:
    """The peal a payload carries; None for one this process cannot read."""
    conversation_id, sep, rest = payload.partition("|")
    pairs, sep2, text = rest.partition("|")
    head, sep3, tail = text.partition(_SPLICE)
    if not (sep and sep2 and sep3) or not _is_field(conversation_id):
        return None
    try:
        members = tuple((int(user), int(position)) for user, _, position in
                        (pair.partition(":") for pair in pairs.split(",") if pair))
    except ValueError:
        return None
    return Peal(members, head, tail, int(conversation_id) if conversation_id else None)


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
