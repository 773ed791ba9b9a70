"""accounts disabled and token generations; audit log searchable by action

Revision ID: 0005
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('token_generation', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('tokens_revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_tokens_revoked_at'), ['tokens_revoked_at'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action_created', ['action', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_action_created')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_tokens_revoked_at'))
        batch_op.drop_column('tokens_revoked_at')
        batch_op.drop_column('token_generation')
        batch_op.drop_column('disabled_at')
