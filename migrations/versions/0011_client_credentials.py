"""client_credentials: a client's service scope, and tokens that name no person

oauth_client.service_scope holds the scopes a portal's back end may ask for itself with the
client_credentials grant (RFC 6749 §4.4); "" (every existing client) means the grant is not
allowed. Such a token names no person: oauth_token.account_id and the sign-in columns (auth_time,
acr, amr) become optional, and a CHECK keeps every row either a person's token (all four set) or
a client's (none set, and no session, code, organisation or refresh token).

Downgrading deletes the clients' own tokens (the old schema cannot hold them) and takes
client_credentials out of the clients' grant types.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 02:00:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PERSON_OR_CLIENT = (
    "(account_id IS NOT NULL AND auth_time IS NOT NULL AND acr IS NOT NULL AND amr IS NOT NULL)"
    " OR (account_id IS NULL AND auth_time IS NULL AND acr IS NULL AND amr IS NULL"
    " AND session_id IS NULL AND authorization_code_id IS NULL"
    " AND organisation_member_id IS NULL AND refresh_token_hash IS NULL)"
)
SIGN_IN_COLUMNS = (
    ('account_id', sa.BigInteger()),
    ('auth_time', sa.DateTime(timezone=True)),
    ('acr', sa.String(length=64)),
    ('amr', sa.String(length=64)),
)


def upgrade():
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_scope', sa.String(length=255), server_default='',
                                      nullable=False))
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        for name, type_ in SIGN_IN_COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
        batch_op.create_check_constraint(batch_op.f('ck_oauth_token_person_or_client'),
                                         sa.text(PERSON_OR_CLIENT))


def downgrade():
    op.execute("DELETE FROM oauth_token WHERE account_id IS NULL")
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_oauth_token_person_or_client'), type_='check')
        for name, type_ in SIGN_IN_COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
    # JSON is read and written back here: its functions differ between SQLite and PostgreSQL.
    connection = op.get_bind()
    client = sa.table('oauth_client', sa.column('id', sa.BigInteger()),
                      sa.column('grant_types', sa.JSON()))
    for row in connection.execute(sa.select(client.c.id, client.c.grant_types)):
        grant_types = row.grant_types if isinstance(row.grant_types, list) else json.loads(
            row.grant_types or "[]")
        if 'client_credentials' in grant_types:
            kept = [grant for grant in grant_types if grant != 'client_credentials']
            connection.execute(client.update().where(client.c.id == row.id)
                               .values(grant_types=kept))
    # Not a batch: on SQLite (foreign keys on) rebuilding oauth_client would cascade the drop of
    # the old table to every token, code and consent; SQLite 3.35+ drops a column in place.
    op.drop_column('oauth_client', 'service_scope')
