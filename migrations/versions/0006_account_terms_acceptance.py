"""account: which terms of use and privacy notice the person accepted, and when

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_version', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('terms_accepted_at', sa.DateTime(timezone=True),
                                      nullable=True))
    # A self-registered account accepted the version its completed registration recorded, when
    # it started; accounts registered at a counter accept when they are activated from now on.
    op.execute(
        "UPDATE account SET "
        "terms_version = (SELECT r.terms_version FROM pending_registration r "
        "  WHERE r.national_id = account.national_id AND r.completed_at IS NOT NULL "
        "  ORDER BY r.completed_at DESC LIMIT 1), "
        "terms_accepted_at = (SELECT r.created_at FROM pending_registration r "
        "  WHERE r.national_id = account.national_id AND r.completed_at IS NOT NULL "
        "  ORDER BY r.completed_at DESC LIMIT 1)"
    )


def downgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('terms_accepted_at')
        batch_op.drop_column('terms_version')
