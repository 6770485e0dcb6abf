"""report versions and parse-worker claims

Adds what incremental recrawls and distributed parsing need: the report_changes table, the
version links of reports (supersedes_id, changed_after_publication), the claim columns of
documents (attempts, claimed_by, claimed_at) and the WARC record id of captures (idempotence).
Existing rows keep their data: new columns get defaults.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warc_record_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(op.f('uq_captures_warc_record_id'), ['warc_record_id'])

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('changed_after_publication', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_foreign_key(op.f('fk_reports_supersedes_id_reports'), 'reports',
                                    ['supersedes_id'], ['id'])

    op.create_table('report_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_report_id', sa.Integer(), nullable=False),
    sa.Column('new_report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('old_value', sa.String(length=64), nullable=True),
    sa.Column('new_value', sa.String(length=64), nullable=True),
    sa.Column('old_present', sa.Boolean(), nullable=False),
    sa.Column('new_present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['new_report_id'], ['reports.id'], name=op.f('fk_report_changes_new_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['old_report_id'], ['reports.id'], name=op.f('fk_report_changes_old_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_changes')),
    sa.UniqueConstraint('new_report_id', 'key', name=op.f('uq_report_changes_new_report_id_key'))
    )
    with op.batch_alter_table('report_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_changes_old_report_id'), ['old_report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_changes_old_report_id'))
    op.drop_table('report_changes')

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_reports_supersedes_id_reports'), type_='foreignkey')
        batch_op.drop_column('changed_after_publication')
        batch_op.drop_column('supersedes_id')

    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_captures_warc_record_id'), type_='unique')
        batch_op.drop_column('warc_record_id')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('attempts')
