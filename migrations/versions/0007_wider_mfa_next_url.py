"""mfa_challenge.next_url: wide enough for a whole authorization request to resume

An authorization request may be up to MAX_REQUEST_LENGTH characters (idp/oidc/checks.py); the
pending two-step sign-in keeps it as its `next`, which a 2048-wide column cut short.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mfa_challenge', schema=None) as batch_op:
        batch_op.alter_column('next_url', existing_type=sa.String(length=2048),
                              type_=sa.String(length=8192), existing_nullable=True)


def downgrade():
    with op.batch_alter_table('mfa_challenge', schema=None) as batch_op:
        batch_op.alter_column('next_url', existing_type=sa.String(length=8192),
                              type_=sa.String(length=2048), existing_nullable=True)
