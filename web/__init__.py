"""The Flask edge: validates, authorizes, rate-limits, persists and
enqueues. It does no delivery work itself and never imports `workers`."""

from web.app import create_app

__all__ = ["create_app"]
