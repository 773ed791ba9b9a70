"""OpenTelemetry traces, only when an OTLP endpoint is configured (D52).

The chain is HTTP server span → publish span (one per job, when the
publisher sends it) → actor span (the worker's run of it), linked by the
W3C `traceparent` the job carries in its outbox row and its Dramatiq
options. Without an endpoint `enabled()` is False, every helper here
returns at once and nothing of the SDK is even imported.

Herald keeps its own TracerProvider (never the API's global one, which can
be set only once per process): tests install one with an in-memory
exporter, and uninstall it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

SERVER, PRODUCER, CONSUMER = "server", "producer", "consumer"
_tracer: Any = None
_provider: Any = None


def enabled() -> bool:
    return _tracer is not None


def configure(endpoint: str | None, service_name: str, headers: dict[str, str] | None = None) -> bool:
    """Export spans over OTLP/HTTP (protobuf) to `endpoint` (its /v1/traces
    is appended, as the OTLP spec says for OTEL_EXPORTER_OTLP_ENDPOINT);
    False (and nothing done) without an endpoint or when already set up."""
    if not endpoint or enabled():
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(endpoint=traces_url(endpoint), headers=headers or None)
    install(BatchSpanProcessor(exporter), service_name)
    return True


def traces_url(endpoint: str) -> str:
    return endpoint if endpoint.rstrip("/").endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"


def install(processor, service_name: str) -> None:
    """Trace through `processor` (a test's SimpleSpanProcessor over an InMemorySpanExporter)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    global _tracer, _provider
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(processor)
    _provider, _tracer = provider, provider.get_tracer("herald")


def uninstall() -> None:
    """Stop tracing (flushing what is pending)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def start_span(name: str, kind: str, parent: str | None, attributes: dict | None = None):
    """(span, its traceparent): a new span under the `parent` traceparent
    (a new trace without one); (None, parent) when tracing is off."""
    if _tracer is None:
        return None, parent
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    context = propagator.extract({"traceparent": parent}) if parent else None
    span = _tracer.start_span(name, context=context, kind=getattr(trace.SpanKind, kind.upper()),
                              attributes={k: v for k, v in (attributes or {}).items() if v is not None})
    carrier: dict[str, str] = {}
    propagator.inject(carrier, context=trace.set_span_in_context(span))
    return span, carrier.get("traceparent", parent)


def end_span(span, *, error: BaseException | None = None, attributes: dict | None = None) -> None:
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    for key, value in (attributes or {}).items():
        if value is not None:
            span.set_attribute(key, value)
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


@contextmanager
def span(name: str, kind: str, parent: str | None, attributes: dict | None = None) -> Iterator[str | None]:
    """`start_span` … `end_span` around a block; yields the traceparent to pass on."""
    started, traceparent = start_span(name, kind, parent, attributes)
    try:
        yield traceparent
    except BaseException as error:
        end_span(started, error=error)
        raise
    end_span(started)
