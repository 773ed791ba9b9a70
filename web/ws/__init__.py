"""WebSocket plumbing at the edge: it only moves frames (rules: pipeline.frames)."""
