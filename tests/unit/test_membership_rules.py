"""Membership rules: who inherits a group, who may close, the last owner."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import Forbidden, LastOwner, NotAGroup
from pipeline.memberships import Seat, check_can_close, check_group, check_keeps_an_owner, successor

T0 = datetime(2025, 5, 1, tzinfo=timezone.utc)
seats = st.lists(st.builds(Seat, st.integers(1, 50), st.sampled_from(["owner", "admin", "member"]),
                           st.integers(0, 5).map(lambda d: T0 + timedelta(days=d))),
                 unique_by=lambda s: s.user_id, max_size=8)


@given(seats, st.integers(1, 50))
def test_the_heir_is_the_longest_standing_admin_else_member_and_only_without_another_owner(group, leaving):
    heir = successor(group, leaving)
    staying = [s for s in group if s.user_id != leaving]
    if any(s.role == "owner" for s in staying) or not staying:
        assert heir is None
        return
    admins = [s for s in staying if s.role == "admin"]
    pool = admins or staying
    assert heir == min(pool, key=lambda s: (s.joined_at, s.user_id)).user_id


def test_the_last_owner_cannot_step_down_but_one_of_two_can():
    alone = [Seat(1, "owner", T0), Seat(2, "admin", T0)]
    with pytest.raises(LastOwner):
        check_keeps_an_owner(alone, 1, "admin")
    check_keeps_an_owner(alone + [Seat(3, "owner", T0)], 1, "member")
    check_keeps_an_owner(alone, 2, "member")


def test_who_may_close():
    check_can_close("group", "admin", with_business=False)
    check_can_close("direct", "member", with_business=True)
    for kind, role, business in (("group", "member", True), ("direct", "member", False)):
        with pytest.raises(Forbidden):
            check_can_close(kind, role, with_business=business)


def test_direct_conversations_are_not_groups():
    with pytest.raises(NotAGroup):
        check_group("direct")
    check_group("group")
