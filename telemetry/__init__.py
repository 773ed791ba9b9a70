"""Logs and traces: the one home of how every Herald process logs and traces.

- `telemetry.context`: the fields every log line of the current request or
  job carries (request id, trace id, message id, job, user), and the ids a
  job takes with it into the worker.
- `telemetry.logs`: the JSON and text formats and `configure_logging`, which
  every process's composition root calls once.
- `telemetry.tracing`: OpenTelemetry spans, only when an OTLP endpoint is
  configured (nothing of the SDK is imported otherwise).

Imports nothing of ours: every layer may use it.
"""
