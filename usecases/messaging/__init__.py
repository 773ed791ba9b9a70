"""Messaging: accepting one-way messages, positioning deliveries in streams, acks, pushes."""
