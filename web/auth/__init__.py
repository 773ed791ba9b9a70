"""Identity at the edge: JWT access tokens and the caller of a request."""
