"""Prometheus metrics: what every process counts (prometheus-client), what
the edge computes at scrape time, and how a scrape is answered.

Names follow Prometheus' conventions (`herald_` prefix, base units,
`_total` for counters); label values come from small fixed sets — routes
are URL rule templates, never ids. Under several processes (gunicorn
workers, dramatiq processes) the values live in files under
`PROMETHEUS_MULTIPROC_DIR` and a scrape sums them (the client's
multiprocess mode); without it, in this process's memory.
docs/operations.md lists every metric.
"""
