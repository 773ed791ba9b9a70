"""Fault scenarios: each builds its own stack (tests.faults.harness) and
every one of them leaves the three services answering, whatever happened."""

from __future__ import annotations

import pytest

from tests.faults import outages
from tests.faults.harness import Scenario


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: kills processes and restarts services under load")


@pytest.fixture
def make_scenario(tmp_path):
    made: list[Scenario] = []

    def make(name: str, **options) -> Scenario:
        scenario = Scenario(name, tmp_path, **options)
        made.append(scenario)
        return scenario

    yield make
    try:
        outages.ensure_all_up()
    finally:
        for scenario in made:
            scenario.close()
