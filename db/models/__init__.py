"""Tables. PostgreSQL in production, SQLite in the embedded mode.

One module per area; everything is re-exported here so callers write
`from db.models import Message`.
"""

from db.models.accounts import ApiKey, Device, OtpCode, RefreshToken, Stream, User, WsTicket
from db.models.base import Base, Id, Timestamp
from db.models.chat import Block, Conversation, ConversationMember, Reaction, StreamEvent
from db.models.messaging import Delivery, IdempotencyKey, Message, Outbox, Push
from db.models.operations import AuditEntry, DeadLetter
from db.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookEvent

__all__ = ["ApiKey", "AuditEntry", "Base", "Block", "Conversation", "ConversationMember", "DeadLetter", "Delivery",
           "Device", "IdempotencyKey", "Id", "Message", "OtpCode", "Outbox", "Push", "Reaction",
           "RefreshToken", "Stream", "StreamEvent", "Timestamp", "User", "WebhookAttempt", "WebhookEndpoint",
           "WebhookEvent", "WsTicket"]
