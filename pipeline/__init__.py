"""The delivery lifecycle as plain Python: no I/O, imports nothing of ours.

`now` and randomness are passed in, so every rule here is a pure function
that unit and property tests can drive directly.
"""
