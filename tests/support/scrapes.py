"""Reading a Prometheus exposition the way Prometheus does (the client's
own parser): {(sample name, sorted labels): value}."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def parse(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    """One sample's value (0 when absent: a labelled counter not yet touched)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def family_names(text: str) -> set[str]:
    """Every metric family and every sample name the exposition holds."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names
