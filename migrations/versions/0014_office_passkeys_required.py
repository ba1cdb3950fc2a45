"""An office setting: its staff complete the console's second step only with a passkey

- post_office.passkeys_required: false for every existing office (nothing changes until an
  operator turns it on with `idp offices set-passkeys-required`).
- oauth_client.min_phishing_resistant: a portal's minimum may require phishing resistance
  (`idp clients set-min-acr ... urn:vn:postid:phishing_resistant`); false for every portal.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('post_office') as batch:
        batch.add_column(sa.Column('passkeys_required', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('oauth_client') as batch:
        batch.add_column(sa.Column('min_phishing_resistant', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('oauth_client') as batch:
        batch.drop_column('min_phishing_resistant')
    with op.batch_alter_table('post_office') as batch:
        batch.drop_column('passkeys_required')
