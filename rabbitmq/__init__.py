"""Queue topology as code: queue and actor names, declarations, publishing.

The edge and the workers meet here by name only: the edge never imports an
actor, it publishes a Dramatiq-format message to a named queue for a named
actor.
"""
