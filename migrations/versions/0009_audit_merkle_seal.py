"""audit log sealed into a Merkle tree: audit_leaf, audit_checkpoint; the chain columns optional

Events written from now on are inserted with no chain position (no shared lock at append) and
sealed in batches by the sealer into one RFC 9162 Merkle tree with signed checkpoints
(docs/audit.md). Events of the hash chain keep seq/prev_hash/hash as evidence; the sealer checks
that chain and seals it first. On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE on the
three audit tables (defence in depth: the application never issues them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

APPEND_ONLY = ('audit_event', 'audit_leaf', 'audit_checkpoint')
REFUSE = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)

    op.create_table('audit_leaf',
    sa.Column('leaf_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['audit_event.id'],
                            name=op.f('fk_audit_leaf_event_id_audit_event')),
    sa.PrimaryKeyConstraint('leaf_index', name=op.f('pk_audit_leaf')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_leaf_event_id'))
    )
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('cursor_xid', sa.BigInteger(), nullable=True),
    sa.Column('cursor_id', sa.BigInteger(), nullable=True),
    sa.Column('frontier', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
    sa.UniqueConstraint('tree_size', name=op.f('uq_audit_checkpoint_tree_size'))
    )

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(REFUSE)
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_leaf')
    # Events written unchained since cannot get a chain back: downgrading needs none of them.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
