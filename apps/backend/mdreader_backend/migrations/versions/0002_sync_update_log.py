"""sync update log and provisional documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:20:09.848207
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_updates",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("update", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_updates")),
    )
    op.create_index(
        "ix_document_updates_document_id_id", "document_updates", ["document_id", "id"], unique=False
    )
    op.create_table(
        "provisional_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_provisional_documents_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisional_documents")),
    )
    op.create_index(
        op.f("ix_provisional_documents_expires_at"), "provisional_documents", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_provisional_documents_owner_id"), "provisional_documents", ["owner_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provisional_documents_owner_id"), table_name="provisional_documents")
    op.drop_index(op.f("ix_provisional_documents_expires_at"), table_name="provisional_documents")
    op.drop_table("provisional_documents")
    op.drop_index("ix_document_updates_document_id_id", table_name="document_updates")
    op.drop_table("document_updates")
