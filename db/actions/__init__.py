"""Use cases shared by the edge and the workers (like Zulip's do_*).

Each takes a session and plain values, changes state, and leaves the
commit to the caller's unit of work.
"""
