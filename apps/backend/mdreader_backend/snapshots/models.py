"""History snapshots: full Yjs states kept for version history (blobs in the database for now)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mdreader_backend.database import Base, new_id, utcnow


class DocumentSnapshot(Base):
    __tablename__ = "document_snapshots"
    __table_args__ = (
        Index("ix_document_snapshots_document_created", "document_id", "created_at"),
        CheckConstraint("type IN ('auto','manual','restore-backup')", name="type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(20), default="manual", index=True)
    yjs_state: Mapped[bytes] = mapped_column(LargeBinary)
    html_preview: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
