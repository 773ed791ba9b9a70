"""Rings carry their position and conversation beside the encoded frame:
the wire prefix round-trips, and the scope rule needs no JSON."""

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipeline.rings import (PEAL_MIN_USERS, RESYNC, Peal, Ring, in_scope, pack, pack_peal, ring_all, unpack,
                            unpack_peal)

ROOT = Path(__file__).resolve().parents[2]
optional_ids = st.none() | st.integers(min_value=1, max_value=2**62)


@given(st.integers(min_value=1), optional_ids, st.text(min_size=1), optional_ids)
def test_a_ring_survives_the_wire(user_id, position, text, conversation_id):
    ring = Ring(user_id, position, text, conversation_id)
    assert unpack(user_id, pack(ring)) == ring


def test_the_prefix_is_cheap_and_the_text_is_untouched():
    text = '{"type":"message","position":7,"body":"a|b"}'
    assert pack(Ring(3, 7, text, 42)) == f"7|42|{text}"
    assert pack(Ring(3, None, text)) == f"||{text}"
    assert unpack(3, f"||{text}") == Ring(3, None, text, None)


def test_a_payload_without_the_prefix_asks_for_a_resync():
    for payload in ('{"type":"message","position":7}', '{"a":"x|y|z"}', "x|1|{}", ""):
        assert unpack(5, payload) == Ring(5, None, RESYNC)


def test_a_scoped_socket_sees_only_its_conversation():
    assert in_scope(None, None) and in_scope(9, None)  # an unscoped socket sees everything
    assert in_scope(9, 9)
    assert not in_scope(8, 9)
    assert not in_scope(None, 9)  # one-way messages and presence are about no conversation


def test_the_websocket_package_imports_no_database():
    offenders = []
    for path in (ROOT / "web" / "ws").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {name}" for name in names
                          if name.split(".")[0] in {"db", "sqlalchemy"}]
    assert offenders == []


pairs = st.lists(st.tuples(st.integers(min_value=1, max_value=2**62), st.integers(min_value=1, max_value=2**62)),
                 min_size=1, max_size=50)


@given(pairs, st.text(), st.text(), optional_ids)
def test_a_peal_survives_the_wire(members, head, tail, conversation_id):
    # A JSON text never holds a raw NUL (the splice mark); anything else goes.
    head, tail = head.replace("\0", ""), tail.replace("\0", "")
    peal = Peal(tuple(members), head, tail, conversation_id)
    assert unpack_peal(pack_peal(peal)) == peal


def test_a_peal_rings_only_the_users_asked_for_with_their_own_position():
    peal = Peal(((1, 10), (2, 20), (3, 30)), '{"type":"message","position":', ',"message":{"id":5}}', 7)
    assert list(peal.rings({2, 3, 99})) == [Ring(2, 20, '{"type":"message","position":20,"message":{"id":5}}', 7),
                                           Ring(3, 30, '{"type":"message","position":30,"message":{"id":5}}', 7)]


def test_a_large_audience_gets_one_peal_a_small_one_a_ring_each():
    small = [(n, n * 10) for n in range(1, PEAL_MIN_USERS)]
    large = [(n, n * 10) for n in range(1, PEAL_MIN_USERS + 1)]
    assert ring_all(small, "<", ">", 4) == [Ring(u, p, f"<{p}>", 4) for u, p in small]
    assert ring_all(large, "<", ">", 4) == [Peal(tuple(large), "<", ">", 4)]


def test_an_unreadable_peal_is_none():
    for payload in ("", "x|1:2|a\0b", "|1:x|a\0b", "|1:2|no splice"):
        assert unpack_peal(payload) is None
