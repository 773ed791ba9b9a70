"""Reaction rules: what counts as an emoji, and how many one person may place."""

from __future__ import annotations

import re

from pipeline.errors import InvalidEmoji, ValidationFailed

ADDED, REMOVED = "added", "removed"
MAX_EMOJI_CHARS = 32
# Slack caps distinct reactions per message; we cap them per person, so one
# account cannot pile rows onto a message.
MAX_REACTIONS_PER_PERSON = 20

# Extended_Pictographic, roughly: the blocks where emoji live. Regional
# indicators (flags) and skin-tone modifiers only combine, so they are not bases.
_BASE = ("\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf"
         "\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf"
         "\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
         "\U0001f000-\U0001f1e5\U0001f200-\U0001f3fa\U0001f400-\U0001faff")
_FLAG = "[\U0001f1e6-\U0001f1ff]{2}"
_KEYCAP = "[0-9#*]\ufe0f?\u20e3"
_TAG_FLAG = "\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # e.g. England, Scotland
_PLAIN = f"[{_BASE}][\ufe0e\ufe0f]?[\U0001f3fb-\U0001f3ff]?"
_ELEMENT = f"(?:{_FLAG}|{_KEYCAP}|{_TAG_FLAG}|{_PLAIN})"
# One emoji: an element, or elements joined by zero-width joiners (👩‍💻, 🏳️‍🌈).
_EMOJI = re.compile(f"{_ELEMENT}(?:\u200d{_ELEMENT})*")
_SHORTCODE = re.compile(r":[a-z0-9_+\-]{1,30}:")


def check_emoji(raw: str) -> str:
    """The reaction as stored: one emoji (with its modifiers) or a `:shortcode:`.

    Raises:
        InvalidEmoji: empty, longer than 32 characters, text, or several emoji.
    """
    if not 1 <= len(raw) <= MAX_EMOJI_CHARS:
        raise InvalidEmoji(f"a reaction is 1 to {MAX_EMOJI_CHARS} characters")
    if _EMOJI.fullmatch(raw) or _SHORTCODE.fullmatch(raw):
        return raw
    raise InvalidEmoji("a reaction is one emoji, or a :shortcode: of lowercase letters, digits, _ + -")


def check_reaction_limit(placed: int) -> None:
    """Raises ValidationFailed when a person already placed the most reactions allowed on a message."""
    if placed >= MAX_REACTIONS_PER_PERSON:
        raise ValidationFailed(f"at most {MAX_REACTIONS_PER_PERSON} different reactions per person on a message")
