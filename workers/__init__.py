"""Dramatiq actors, one small module per concern. Actors are thin: load
state by id, ask `pipeline`, do the I/O, record. `workers.main` is the
entry point the `dramatiq` command loads."""
