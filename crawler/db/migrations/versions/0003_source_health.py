"""per-run per-source health

Adds ``source_health``: for each crawl run and source, the counters the monitoring reads
(listing pages, reports found, new documents, changed reports, errors, blocked, parse failures)
and the source's outcome. Additive: no existing table changes.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('source_health',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('listing_pages', sa.Integer(), nullable=False),
    sa.Column('reports_found', sa.Integer(), nullable=False),
    sa.Column('documents', sa.Integer(), nullable=False),
    sa.Column('new_documents', sa.Integer(), nullable=False),
    sa.Column('changed_reports', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('blocked', sa.Integer(), nullable=False),
    sa.Column('parse_failures', sa.Integer(), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_source_health_run_id_crawl_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_health_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_health')),
    sa.UniqueConstraint('run_id', 'source_id', name=op.f('uq_source_health_run_id_source_id'))
    )
    with op.batch_alter_table('source_health', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_health_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_health_source_id'), ['source_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('source_health', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_health_source_id'))
        batch_op.drop_index(batch_op.f('ix_source_health_run_id'))
    op.drop_table('source_health')
