"""GROUP_MEMBER_LIMIT is a setting: large groups up to the 10,000 members
measured (docs/performance.md, "Large groups"), a clear error beyond."""

import pytest

from config import load_settings
from config.settings import ConfigError


def test_the_member_limit_defaults_to_256_and_allows_10000():
    assert load_settings({}).group_member_limit == 256
    assert load_settings({"GROUP_MEMBER_LIMIT": "10000"}).group_member_limit == 10_000


@pytest.mark.parametrize("value", ["10001", "1", "many"])
def test_a_member_limit_out_of_range_is_refused_at_start(value):
    with pytest.raises(ConfigError, match="GROUP_MEMBER_LIMIT"):
        load_settings({"GROUP_MEMBER_LIMIT": value})
