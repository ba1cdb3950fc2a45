"""audit_event: two fewer index writes per audited commit

Every audited commit inserts one event, and each index on the table is one more b-tree write on
the national hot path (bench/README.md). No query looks events up by tag alone (the account's
activity page filters by account_id first), so ix_audit_event_tag goes. Staff events are a
small share of the log; their index becomes partial (WHERE staff_id IS NOT NULL), so a citizen's
sign-in writes no entry in it while an investigation of one staff member stays an index scan.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

STAFF_ONLY = sa.text("staff_id IS NOT NULL")


def upgrade():
    op.drop_index('ix_audit_event_tag', table_name='audit_event')
    op.drop_index('ix_audit_event_staff_id', table_name='audit_event')
    op.create_index('ix_audit_event_staff_id', 'audit_event', ['staff_id'],
                    postgresql_where=STAFF_ONLY, sqlite_where=STAFF_ONLY)


def downgrade():
    op.drop_index('ix_audit_event_staff_id', table_name='audit_event')
    op.create_index('ix_audit_event_staff_id', 'audit_event', ['staff_id'])
    op.create_index('ix_audit_event_tag', 'audit_event', ['tag'])
