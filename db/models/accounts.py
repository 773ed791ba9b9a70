"""Accounts and sign-in: users, their streams, codes, tokens and devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, Id, Timestamp


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    # A mobile number that received a message before its owner signed up
    # has an account row from then on; it is activated at first login.
    activated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    hide_last_seen: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # An admin switched the account off: no sign-in, no refresh, no token, no socket.
    disabled_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Access tokens carry the generation they were signed in (the `gen`
    # claim); a revocation bumps it, so every older token is refused
    # (docs/decisions.md D60). `tokens_revoked_at` dates the bump: edges load
    # only the bumps young enough to matter (index).
    token_generation: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tokens_revoked_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)


class Stream(Base):
    """Each user's delivery stream: positions are handed out under this row's lock."""

    __tablename__ = "streams"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_position: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    acked_position: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class OtpCode(Base):
    __tablename__ = "otp_codes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    consumed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class RefreshToken(Base):
    """Rotating refresh tokens; reuse of a spent one revokes its whole family."""

    __tablename__ = "refresh_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class WsTicket(Base):
    """Short-lived one-time tickets so browsers need no token in the URL."""

    __tablename__ = "ws_tickets"
    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Device(Base):
    """A push token of one of a user's devices."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # android | ios | web
    token: Mapped[str] = mapped_column(String(512), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ApiKey(Base):
    """A business's server-to-server credential: only the SHA-256 of its
    secret is kept (docs/decisions.md D75); the prefix identifies it to people."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
