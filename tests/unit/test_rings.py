"""Rings carry their position and conversation beside the encoded frame:
the wire prefix round-trips, and the scope rule needs no JSON."""

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipeline.rings import RESYNC, Ring, in_scope, pack, unpack

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
