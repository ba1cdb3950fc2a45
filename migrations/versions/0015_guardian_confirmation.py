"""Guardians confirm their link to a child (docs/architecture.md §14)

- guardianship: the parent's ID-card check (document type, number, dates), and the parent's
  own confirmation (when, how, the SMS challenge). Links made before this revision are marked
  confirmed when they were made, so that they keep granting what they granted.
- otp_challenge: purpose 'confirm_guardian'.

Self-contained: it touches only these two tables, so it can be chained after any other 0014.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PURPOSES = ("'register_phone', 'confirm_email', 'change_phone', 'recover_password', "
            "'activate_account', 'confirm_mandate'")


def upgrade():
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'document_type', sa.Enum('can_cuoc', 'cccd', 'passport',
                                     name='document_type', native_enum=False,
                                     create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('document_number', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('document_issued_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('document_expires_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column(
            'confirmed_by', sa.Enum('own_device', 'sms_code', name='guardian_confirmation',
                                    native_enum=False, create_constraint=True, length=32),
            nullable=True))
        batch_op.add_column(sa.Column('confirmation_challenge_id', sa.BigInteger(),
                                      nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_guardianship_confirmation_challenge_id_otp_challenge'),
            'otp_challenge', ['confirmation_challenge_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE guardianship SET confirmed_at = created_at")
    with op.batch_alter_table('otp_challenge', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_otp_challenge_otp_purpose'), type_='check')
        batch_op.create_check_constraint('otp_purpose',
                                         f"purpose IN ({PURPOSES}, 'confirm_guardian')")


def downgrade():
    op.execute("DELETE FROM otp_challenge WHERE purpose = 'confirm_guardian'")
    with op.batch_alter_table('otp_challenge', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_otp_challenge_otp_purpose'), type_='check')
        batch_op.create_check_constraint('otp_purpose', f"purpose IN ({PURPOSES})")
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_guardianship_confirmation_challenge_id_otp_challenge'),
            type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_guardianship_guardian_confirmation'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_guardianship_document_type'), type_='check')
        for column in ('confirmation_challenge_id', 'confirmed_by', 'confirmed_at',
                       'document_expires_on', 'document_issued_on', 'document_number',
                       'document_type'):
            batch_op.drop_column(column)
