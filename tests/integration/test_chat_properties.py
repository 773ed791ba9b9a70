"""Properties of chat on the real PostgreSQL, under concurrency and any
sequence of operations (hypothesis)."""

from __future__ import annotations

import threading
from collections import Counter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Conversation, ConversationMember, Message
from tests.support.chat import direct, group

DB_EXAMPLES = settings(max_examples=30, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def at_once(app, calls) -> list:
    """Run each call(client) in its own thread with its own test client, released together."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(n, call):
        client = app.test_client()
        start.wait()
        results[n] = call(client)

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


pairs = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)).filter(lambda p: p[0] != p[1]),
                 min_size=2, max_size=10)


@settings(DB_EXAMPLES, max_examples=12)
@given(plan=pairs)
def test_exactly_one_direct_conversation_per_pair_under_concurrent_requests(app, auth, sessions, plan):
    users = [auth.user() for _ in range(4)]

    def start(me, other):
        return lambda client: client.post("/v1/conversations", json={"kind": "direct", "with": other.id},
                                          headers=auth.headers(me))
    answers = at_once(app, [start(users[a], users[b]) for a, b in plan])
    by_pair: dict[frozenset, set] = {}
    for (a, b), answer in zip(plan, answers):
        assert answer.status_code in (200, 201), answer.json
        by_pair.setdefault(frozenset((a, b)), set()).add(answer.json["id"])
    assert all(len(ids) == 1 for ids in by_pair.values())
    created = Counter(frozenset(p) for p, a in zip(plan, answers) if a.status_code == 201)
    assert created == Counter(set(by_pair))  # one 201 per pair, the rest 200
    ids = [users[n].id for n in range(4)]
    with UnitOfWork(sessions) as uow:
        keys = uow.session.scalars(select(Conversation.pair_key).join(
            ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .where(ConversationMember.user_id.in_(ids))).all()
    assert Counter(keys) == {key: 2 for key in Counter(keys)}  # two members each
    assert len(set(keys)) == len(by_pair)


operations = st.lists(st.one_of(
    st.tuples(st.just("send"), st.integers(0, 1)),
    st.tuples(st.just("read"), st.integers(0, 1), st.integers(0, 12)),
    st.tuples(st.just("delete"), st.integers(0, 11)),
    st.tuples(st.just("archive"), st.integers(0, 1), st.booleans())), max_size=14)


class UnreadModel:
    """What unread counts must be: messages after my marker, not mine, not deleted."""

    def __init__(self):
        self.messages: list[list] = []  # [sender, deleted] by seq - 1
        self.read_seq = [0, 0]
        self.archived = [False, False]

    def unread(self, who: int) -> int:
        return sum(1 for seq, (sender, deleted) in enumerate(self.messages, 1)
                   if seq > self.read_seq[who] and sender != who and not deleted)

    def read(self, who: int, up_to: int) -> None:
        self.read_seq[who] = max(self.read_seq[who], min(up_to, len(self.messages)))


@settings(DB_EXAMPLES)
@given(plan=operations)
def test_unread_counts_follow_a_simple_model(client, auth, sessions, plan):
    people = [auth.user(), auth.user()]
    conversation, model, ids = direct(client, auth, people[0], people[1]), UnreadModel(), []
    base = f"/v1/conversations/{conversation}"
    for op in plan:
        if op[0] == "send":
            sent = client.post(f"{base}/messages", json={"body": "x"}, headers=auth.headers(people[op[1]])).json
            model.messages.append([op[1], False])
            ids.append(sent["id"])
        elif op[0] == "read":
            answer = client.post(f"{base}/read", json={"up_to_seq": op[2]}, headers=auth.headers(people[op[1]]))
            model.read(op[1], op[2])
            assert answer.json["unread"] == model.unread(op[1])
        elif op[0] == "delete" and model.messages:
            n = op[1] % len(model.messages)  # deleted by its sender, through the delete endpoint
            gone = client.delete(f"/v1/messages/{ids[n]}", headers=auth.headers(people[model.messages[n][0]]))
            assert gone.status_code == 204
            model.messages[n][1] = True
        elif op[0] == "archive":
            client.post(f"{base}/{'archive' if op[2] else 'unarchive'}", headers=auth.headers(people[op[1]]))
            model.archived[op[1]] = op[2]
        for who, person in enumerate(people):
            assert client.get(base, headers=auth.headers(person)).json["unread"] == model.unread(who)
    for who, person in enumerate(people):
        listed = client.get(f"/v1/conversations?archived={str(model.archived[who]).lower()}",
                            headers=auth.headers(person)).json["items"]
        assert [(i["id"], i["unread"]) for i in listed] == [(conversation, model.unread(who))]
        visible = 0 if model.archived[who] else model.unread(who)
        assert client.get("/v1/conversations/unread-count", headers=auth.headers(person)).json == \
            {"unread": visible, "conversations": int(visible > 0)}


# Each thread: (which member sends, its client ids in order; None = no client id).
send_plans = st.lists(st.tuples(st.integers(0, 2), st.lists(st.sampled_from(["a", "b", "c", None]),
                                                            min_size=1, max_size=5)), min_size=2, max_size=6)


@settings(DB_EXAMPLES, max_examples=15)
@given(plan=send_plans)
def test_seq_is_gap_free_under_concurrent_sends_and_resends(app, client, auth, sessions, plan):
    people = [auth.user() for _ in range(3)]
    conversation = group(client, auth, people[0], people[1:])

    def sender(who, client_ids):
        def send_all(thread_client):
            return [thread_client.post(f"/v1/conversations/{conversation}/messages",
                                       json={"body": "x", **({"client_msg_id": cid} if cid else {})},
                                       headers=auth.headers(people[who])).json for cid in client_ids]
        return send_all
    answers = at_once(app, [sender(who, ids) for who, ids in plan])
    distinct = {(who, cid) for who, ids in plan for cid in ids if cid}
    expected = len(distinct) + sum(ids.count(None) for _, ids in plan)
    with UnitOfWork(sessions) as uow:
        seqs = sorted(uow.session.scalars(select(Message.seq).where(Message.conversation_id == conversation)))
        last_seq = uow.session.get(Conversation, conversation).last_seq
    assert seqs == list(range(1, expected + 1)) and last_seq == expected
    first_answer: dict = {}
    for (who, ids), sent in zip(plan, answers):
        for cid, answer in zip(ids, sent):
            if cid:  # a resend, concurrent or not, gets the first message back
                assert first_answer.setdefault((who, cid), answer["id"]) == answer["id"]
