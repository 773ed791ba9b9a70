"""The in-process presence store (embedded mode), the one session
registry: a heartbeat writes and reads back in one call, and "online" for
the push decision means any live session, online or away."""

from realtime import InProcessPresence


def test_a_heartbeat_returns_the_sessions_and_the_state_last_announced():
    store = InProcessPresence()
    assert store.refresh_session(1, "phone", "online", 130.0, 100.0, 60) == ({"phone": ("online", 130.0)}, None)
    store.swap_announced(1, "online", 60)
    sessions, announced = store.refresh_session(1, "tablet", "away", 140.0, 110.0, 60)
    assert sessions == {"phone": ("online", 130.0), "tablet": ("away", 140.0)} and announced == "online"
    assert store.end_session(1, "phone", 120.0, 60) == ({"tablet": ("away", 140.0)}, "online")
    assert store.read_many([1])[1] == ({"tablet": ("away", 140.0)}, 120.0)


def test_online_means_a_live_session_in_any_state():
    store = InProcessPresence()
    store.refresh_session(1, "phone", "away", 130.0, 100.0, 60)
    store.refresh_session(2, "phone", "online", 110.0, 100.0, 60)
    assert store.online_among([1, 2, 3], now=120.0) == {1}  # 2 expired, 3 never came
    assert store.is_online(1, now=120.0) and not store.is_online(2, now=120.0)
    assert store.online_among([], now=120.0) == set()
