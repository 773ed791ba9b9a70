"""Presence: who is online, last seen, contacts, typing relays."""
