"""WebSocket plumbing at the edge: it only moves frames. Rules are pure
(pipeline.frames, pipeline.rings); reading the stream, recording acks,
typing and presence are use cases (usecases.messaging, usecases.presence)."""
