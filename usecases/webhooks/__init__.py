"""Webhooks: business senders' endpoints, the events written with every
status change, and their signed, ordered delivery (D80–D84)."""
