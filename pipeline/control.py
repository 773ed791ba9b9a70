"""Control messages every edge process hears (one pub/sub channel, not a
user's): today one kind, a revocation — "user U's tokens older than
generation G are void; close U's sockets". Plain text over Redis:
`"revoke|<user_id>|<generation>|<reason>"`.

A control message is a doorbell like a ring: the database is the store
(`users.token_generation`), and an edge that may have missed one re-reads
it (docs/decisions.md D60).
"""

from __future__ import annotations

from typing import NamedTuple

DISABLED = "disabled"  # the account was switched off
REVOKED = "revoked"  # its sessions were ended (revoke, password reset, role change)
REASONS = (DISABLED, REVOKED)

# WebSocket close codes (4000-4999: the application's own). The client
# must not reconnect with the token it has: refresh it (4001) or give up (4003).
CLOSE_SESSION_REVOKED = 4001
CLOSE_ACCOUNT_DISABLED = 4003
CLOSE_CODES = {REVOKED: (CLOSE_SESSION_REVOKED, "session revoked"),
               DISABLED: (CLOSE_ACCOUNT_DISABLED, "account disabled")}

# A control text that says "control messages may have been lost: re-read
# the store". Never sent: the subscriber makes it up after (re)connecting.
RELOAD = ""


class Revocation(NamedTuple):
    user_id: int
    generation: int  # tokens with a lower `gen` claim are void
    reason: str  # DISABLED | REVOKED


def pack(revocation: Revocation) -> str:
    return f"revoke|{revocation.user_id}|{revocation.generation}|{revocation.reason}"


def unpack(text: str) -> Revocation | None:
    """The revocation a control text carries; None for anything else
    (a newer process's kind of message during a rolling deploy)."""
    kind, _, rest = text.partition("|")
    user_id, _, rest = rest.partition("|")
    generation, _, reason = rest.partition("|")
    if kind != "revoke" or not user_id.isdigit() or not generation.isdigit() or reason not in REASONS:
        return None
    return Revocation(int(user_id), int(generation), reason)


def refuses(token_generation: int, current_generation: int | None) -> bool:
    """Whether a token signed at `token_generation` is void, the user's
    generation being `current_generation` (None: never revoked lately)."""
    return current_generation is not None and token_generation < current_generation
