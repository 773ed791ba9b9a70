"""indexes for the admin console: messages by sender newest first, by time, a message's jobs

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op


revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (sender_id, id) serves everything (sender_id) did, and newest-first pages too.
    op.create_index('ix_message_sender_newest', 'messages', ['sender_id', 'id'], unique=False)
    op.drop_index('ix_messages_sender_id', table_name='messages')
    op.create_index('ix_messages_created_at', 'messages', ['created_at'], unique=False)
    op.create_index('ix_outbox_message_id', 'outbox', ['message_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_message_id', table_name='outbox')
    op.drop_index('ix_messages_created_at', table_name='messages')
    op.create_index('ix_messages_sender_id', 'messages', ['sender_id'], unique=False)
    op.drop_index('ix_message_sender_newest', table_name='messages')
