"""Persistence: SQLAlchemy models, engine handling, migrations and the
shared use cases (`db.actions`) that the edge and the workers both call."""
