"""Acting for another person: mandates, their uses, guardianships, delegated sessions

- mandate: a citizen's mandate to the agents of one post office (kinds of procedure and/or
  portals, a duration, the ID-card check), confirmed by the citizen, revocable; mandate_use: one
  row per delegated sign-in to a portal.
- guardianship: a verified parent's link to a child under 14; the child is an account of status
  'minor' with no phone (account.phone becomes optional) and no password.
- user_session names the mandate or guardianship a delegated session runs under, the acting
  staff member and the one portal it is good for.
- staff.actor_id: the pseudonymous identifier of the `act` claim, random for every existing row.
- oauth_client.accepts_delegation and procedures: which portals receive delegated sign-ins.
- otp_challenge: purpose 'confirm_mandate'.

Downgrading drops all of it; minors' accounts are deleted first (the old schema requires a phone).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

STATUSES = "'active', 'disabled', 'pending_activation'"
PURPOSES = ("'register_phone', 'confirm_email', 'change_phone', 'recover_password', "
            "'activate_account'")


def upgrade():
    op.create_table(
        'mandate',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('public_id', sa.String(length=22), nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('office_id', sa.BigInteger(), nullable=False),
        sa.Column('created_by_id', sa.BigInteger(), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('client_ids', sa.JSON(), nullable=False),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('loa', sa.Integer(), nullable=False),
        sa.Column('document_type', sa.Enum('can_cuoc', 'cccd', 'passport',
                                           name='document_type', native_enum=False,
                                           create_constraint=True, length=32), nullable=False),
        sa.Column('document_number', sa.String(length=12), nullable=False),
        sa.Column('document_issued_on', sa.Date(), nullable=False),
        sa.Column('document_expires_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confirmed_by', sa.Enum('own_device', 'sms_code', name='mandate_confirmation',
                                          native_enum=False, create_constraint=True, length=32),
                  nullable=True),
        sa.Column('confirmation_challenge_id', sa.BigInteger(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.Enum('citizen', 'supervisor', 'system', name='mandate_ender',
                                        native_enum=False, create_constraint=True, length=32),
                  nullable=True),
        sa.Column('revoked_by_staff_id', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_mandate_account_id_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['office_id'], ['post_office.id'],
                                name=op.f('fk_mandate_office_id_post_office'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'],
                                name=op.f('fk_mandate_created_by_id_staff')),
        sa.ForeignKeyConstraint(['confirmation_challenge_id'], ['otp_challenge.id'],
                                name=op.f('fk_mandate_confirmation_challenge_id_otp_challenge'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['revoked_by_staff_id'], ['staff.id'],
                                name=op.f('fk_mandate_revoked_by_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mandate')),
        sa.UniqueConstraint('public_id', name=op.f('uq_mandate_public_id')),
    )
    op.create_index(op.f('ix_mandate_account_id'), 'mandate', ['account_id'])
    op.create_index(op.f('ix_mandate_office_id'), 'mandate', ['office_id'])
    op.create_table(
        'mandate_use',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('mandate_id', sa.BigInteger(), nullable=False),
        sa.Column('client_pk', sa.BigInteger(), nullable=False),
        sa.Column('staff_id', sa.BigInteger(), nullable=False),
        sa.Column('session_id', sa.BigInteger(), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['mandate_id'], ['mandate.id'],
                                name=op.f('fk_mandate_use_mandate_id_mandate'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['client_pk'], ['oauth_client.id'],
                                name=op.f('fk_mandate_use_client_pk_oauth_client'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_mandate_use_staff_id_staff')),
        sa.ForeignKeyConstraint(['session_id'], ['user_session.id'],
                                name=op.f('fk_mandate_use_session_id_user_session'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mandate_use')),
    )
    op.create_index('ix_mandate_use_mandate_id_used_at', 'mandate_use', ['mandate_id', 'used_at'])
    op.create_table(
        'guardianship',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('public_id', sa.String(length=22), nullable=False),
        sa.Column('child_account_id', sa.BigInteger(), nullable=False),
        sa.Column('guardian_account_id', sa.BigInteger(), nullable=False),
        sa.Column('office_id', sa.BigInteger(), nullable=False),
        sa.Column('created_by_id', sa.BigInteger(), nullable=False),
        sa.Column('birth_certificate_number', sa.String(length=32), nullable=False),
        sa.Column('birth_certificate_issued_on', sa.Date(), nullable=False),
        sa.Column('birth_certificate_matches', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['child_account_id'], ['account.id'],
                                name=op.f('fk_guardianship_child_account_id_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['guardian_account_id'], ['account.id'],
                                name=op.f('fk_guardianship_guardian_account_id_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['office_id'], ['post_office.id'],
                                name=op.f('fk_guardianship_office_id_post_office'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'],
                                name=op.f('fk_guardianship_created_by_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_guardianship')),
        sa.UniqueConstraint('public_id', name=op.f('uq_guardianship_public_id')),
        sa.UniqueConstraint('child_account_id', 'guardian_account_id',
                            name=op.f('uq_guardianship_child_account_id')),
    )
    op.create_index(op.f('ix_guardianship_child_account_id'), 'guardianship', ['child_account_id'])
    op.create_index(op.f('ix_guardianship_guardian_account_id'), 'guardianship',
                    ['guardian_account_id'])
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mandate_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('acting_staff_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('guardianship_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('delegated_client_pk', sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_session_mandate_id_mandate'), 'mandate',
                                    ['mandate_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_user_session_acting_staff_id_staff'), 'staff',
                                    ['acting_staff_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_user_session_guardianship_id_guardianship'),
                                    'guardianship', ['guardianship_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_user_session_delegated_client_pk_oauth_client'),
                                    'oauth_client', ['delegated_client_pk'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_user_session_mandate_id'), ['mandate_id'])
        batch_op.create_index(batch_op.f('ix_user_session_guardianship_id'), ['guardianship_id'])
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_id', sa.String(length=43), nullable=True))
    connection = op.get_bind()
    for (staff_id,) in connection.execute(sa.text("SELECT id FROM staff")).fetchall():
        connection.execute(sa.text("UPDATE staff SET actor_id = :actor WHERE id = :id"),
                           {"actor": secrets.token_urlsafe(32), "id": staff_id})
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column('actor_id', existing_type=sa.String(length=43), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_staff_actor_id'), ['actor_id'])
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepts_delegation', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('procedures', sa.JSON(), nullable=True))
    op.execute("UPDATE oauth_client SET procedures = '[]'")
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.alter_column('procedures', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=16), nullable=True)
        batch_op.drop_constraint(batch_op.f('ck_account_account_status'), type_='check')
        batch_op.create_check_constraint('account_status', f"status IN ({STATUSES}, 'minor')")
    with op.batch_alter_table('otp_challenge', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_otp_challenge_otp_purpose'), type_='check')
        batch_op.create_check_constraint('otp_purpose',
                                         f"purpose IN ({PURPOSES}, 'confirm_mandate')")


def downgrade():
    op.execute("DELETE FROM otp_challenge WHERE purpose = 'confirm_mandate'")
    with op.batch_alter_table('otp_challenge', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_otp_challenge_otp_purpose'), type_='check')
        batch_op.create_check_constraint('otp_purpose', f"purpose IN ({PURPOSES})")
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_guardianship_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_mandate_id'))
        for name in ('fk_user_session_delegated_client_pk_oauth_client',
                     'fk_user_session_guardianship_id_guardianship',
                     'fk_user_session_acting_staff_id_staff', 'fk_user_session_mandate_id_mandate'):
            batch_op.drop_constraint(batch_op.f(name), type_='foreignkey')
        for column in ('delegated_client_pk', 'guardianship_id', 'acting_staff_id', 'mandate_id'):
            batch_op.drop_column(column)
    op.drop_table('mandate_use')
    op.drop_table('mandate')
    op.drop_table('guardianship')
    op.execute("DELETE FROM account WHERE status = 'minor'")
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_account_account_status'), type_='check')
        batch_op.create_check_constraint('account_status', f"status IN ({STATUSES})")
        batch_op.alter_column('phone', existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table('oauth_client', schema=None) as batch_op:
        batch_op.drop_column('procedures')
        batch_op.drop_column('accepts_delegation')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_staff_actor_id'), type_='unique')
        batch_op.drop_column('actor_id')
