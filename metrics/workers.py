"""What the workers count: jobs, dead letters, breakers, push sends."""

from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter("herald_jobs_total", "Jobs processed, by actor and outcome (succeeded, retried, failed, skipped)",
               ["actor", "outcome"])
JOB_DURATION = Histogram("herald_job_duration_seconds", "Time an actor took on a job", ["actor"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
DEAD_LETTERS = Counter("herald_dead_letters_total", "Jobs recorded as dead letters, by actor and reason (error class)",
                       ["actor", "reason"])
PUSH_SENDS = Counter("herald_push_sends_total",
                     "Push notifications attempted per device, by the provider's answer", ["answer"])
# 0 closed, 1 half-open, 2 open; the worst of the live processes.
BREAKER_STATE = Gauge("herald_breaker_state",
                      "Circuit breaker state per protected service (0 closed, 1 half-open, 2 open)",
                      ["service"], multiprocess_mode="livemax")
BREAKER_VALUES = {"closed": 0, "half-open": 1, "open": 2}
