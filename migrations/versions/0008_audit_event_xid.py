"""audit_event.xid: the inserting transaction's id, so a sealer can order events by commit

Row ids on PostgreSQL are handed out at insert, not at commit. The transaction id lets the sealer
wait for every transaction that could still commit an earlier event (docs/audit.md, "Sealing").
Filled on PostgreSQL only; SQLite leaves it NULL (its writers are serialised).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('xid', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_audit_event_xid_id', ['xid', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_xid_id')
        batch_op.drop_column('xid')
