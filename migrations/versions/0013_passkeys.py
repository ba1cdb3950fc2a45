"""Passkeys: WebAuthn credentials of citizens and staff, and their ceremonies' challenges

- passkey: one row per credential, owned by an account or a staff member (CHECK), with the
  public key, sign count, transports, AAGUID, the backup flags, the user-verification flag of
  its last use, the owner's name for it, created and last used.
- webauthn_challenge: a ceremony's challenge, single use and short-lived, bound to the session,
  the pending sign-in or the staff session that started it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'passkey',
        sa.Column('id', ID, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=True),
        sa.Column('staff_id', sa.BigInteger(), nullable=True),
        sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
        sa.Column('user_handle', sa.LargeBinary(length=64), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('transports', sa.String(length=128), nullable=False),
        sa.Column('aaguid', sa.String(length=36), nullable=False),
        sa.Column('backup_eligible', sa.Boolean(), nullable=False),
        sa.Column('backed_up', sa.Boolean(), nullable=False),
        sa.Column('user_verified', sa.Boolean(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('(account_id IS NULL) <> (staff_id IS NULL)',
                           name=op.f('ck_passkey_account_or_staff')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_passkey_account_id_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_passkey_staff_id_staff'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_passkey')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_passkey_credential_id')),
    )
    op.create_index(op.f('ix_passkey_account_id'), 'passkey', ['account_id'])
    op.create_index(op.f('ix_passkey_staff_id'), 'passkey', ['staff_id'])
    op.create_index(op.f('ix_passkey_user_handle'), 'passkey', ['user_handle'])
    op.create_table(
        'webauthn_challenge',
        sa.Column('id', ID, nullable=False),
        sa.Column('handle_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.Enum('register', 'sign_in', 'second_factor', 'step_up',
                                     name='ceremony_purpose', native_enum=False,
                                     create_constraint=True, length=32), nullable=False),
        sa.Column('challenge', sa.LargeBinary(length=64), nullable=False),
        sa.Column('session_id', sa.BigInteger(), nullable=True),
        sa.Column('mfa_challenge_id', sa.BigInteger(), nullable=True),
        sa.Column('staff_session_id', sa.BigInteger(), nullable=True),
        sa.Column('user_handle', sa.LargeBinary(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['user_session.id'],
                                name=op.f('fk_webauthn_challenge_session_id_user_session'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['mfa_challenge_id'], ['mfa_challenge.id'],
                                name=op.f('fk_webauthn_challenge_mfa_challenge_id_mfa_challenge'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_session_id'], ['staff_session.id'],
                                name=op.f('fk_webauthn_challenge_staff_session_id_staff_session'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webauthn_challenge')),
        sa.UniqueConstraint('handle_hash', name=op.f('uq_webauthn_challenge_handle_hash')),
    )
    op.create_index(op.f('ix_webauthn_challenge_session_id'), 'webauthn_challenge', ['session_id'])
    op.create_index(op.f('ix_webauthn_challenge_mfa_challenge_id'), 'webauthn_challenge',
                    ['mfa_challenge_id'])
    op.create_index(op.f('ix_webauthn_challenge_staff_session_id'), 'webauthn_challenge',
                    ['staff_session_id'])


def downgrade():
    op.drop_table('webauthn_challenge')
    op.drop_table('passkey')
