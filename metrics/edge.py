"""What the edge counts: HTTP requests, sockets and frames, refusals."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("herald_http_requests_total", "HTTP requests answered, by route template, method and status",
                        ["route", "method", "status"])
HTTP_DURATION = Histogram("herald_http_request_duration_seconds", "Time to answer an HTTP request",
                          ["route", "method"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SOCKETS_OPEN = Gauge("herald_websockets_open", "WebSockets open now", multiprocess_mode="livesum")
FRAMES_SENT = Counter("herald_frames_sent_total", "Frames sent on WebSockets, by frame type", ["type"])
RING_TO_FRAME = Histogram("herald_ring_to_frame_seconds",
                          "How long the oldest ring of a batch waited in its socket's mailbox "
                          "until its frames were sent",
                          buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
RATE_LIMITED = Counter("herald_rate_limit_refusals_total", "Requests refused by a rate limit (429), by route",
                       ["route"])
BACKPRESSURE_REFUSALS = Counter("herald_backpressure_refusals_total",
                                "Sends refused because the delivery queues are too deep (503), by lane", ["lane"])
# Requests refused because this edge process, not the queues, is the
# bottleneck. Reasons: "db_pool" (no connection within DB_POOL_TIMEOUT_SECONDS,
# D89), "in_flight" (no slot among EDGE_MAX_CONCURRENT_POSTS, D90).
EDGE_OVERLOAD_REFUSALS = Counter("herald_edge_overload_refusals_total",
                                 "Requests refused because the edge process itself is overloaded (503), by reason",
                                 ["reason"])
IDEMPOTENT_REPLAYS = Counter("herald_idempotent_replays_total",
                             "Creating requests answered with their first answer (Idempotency-Key, client_msg_id)",
                             ["route"])

# Frame types the server sends (pipeline.frames); anything else counts as "other".
FRAME_TYPES = frozenset({"message", "receipt", "typing", "presence", "reaction", "edit", "delete", "ready",
                         "error", "pong", "sent", "member_added", "member_removed", "member_left", "role_changed",
                         "conversation_closed", "conversation_reopened"})


def frame_type(text: str) -> str:
    """The `type` of an encoded frame, read from its first key without decoding it."""
    if text.startswith('{"type":"'):
        end = text.find('"', 9)
        if end > 9 and (kind := text[9:end]) in FRAME_TYPES:
            return kind
    return "other"
