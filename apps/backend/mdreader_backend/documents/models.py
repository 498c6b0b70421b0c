"""Documents, their Yjs state, and sync-service presence."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mdreader_backend.database import Base, StringList, TimestampMixin, new_id, utcnow


class Document(TimestampMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_workspace_folder", "workspace_id", "folder_id"),
        Index("ix_documents_workspace_starred", "workspace_id", "is_starred"),
        CheckConstraint("content_type IN ('markdown','html')", name="content_type"),
        CheckConstraint("storage_mode IN ('LocalOnly','HybridSync','CloudOnly')", name="storage_mode"),
        CheckConstraint("access_model IN ('inherited','restricted')", name="access_model"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), index=True)
    content: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(20), default="markdown")
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    folder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("folders.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tags: Mapped[list[str]] = mapped_column(StringList, default=list)
    is_public: Mapped[bool] = mapped_column(default=False, index=True)
    is_template: Mapped[bool] = mapped_column(default=False, index=True)
    is_starred: Mapped[bool] = mapped_column(default=False)
    storage_mode: Mapped[str] = mapped_column(String(20), default="HybridSync")
    access_model: Mapped[str] = mapped_column(String(20), default="inherited")
    version: Mapped[int] = mapped_column(default=1)
    yjs_version: Mapped[int] = mapped_column(default=0)
    yjs_state: Mapped[bytes | None] = mapped_column(LargeBinary)
    word_count: Mapped[int] = mapped_column(default=0)
    is_deleted: Mapped[bool] = mapped_column(default=False, index=True)


class LivePresence(Base):
    """Open sync connections per (document, sync instance), kept fresh by the sync service's heartbeat.

    The backend reads it to answer "does this document have live collaborators?" (Decision 16).
    """

    __tablename__ = "live_presence"

    document_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    connections: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentUpdateLog(Base):
    """Yjs updates not yet compacted into `documents.yjs_state`, in arrival order.

    The sync service appends every accepted update here before acknowledging it, and REST Yjs writes are
    appended too, so connected editors receive them; compaction merges the rows into the document and
    deletes them. Rows of a provisional document (Decision 19) wait here until it is created.
    """

    __tablename__ = "document_updates"
    __table_args__ = (Index("ix_document_updates_document_id_id", "document_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column()
    update: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(20), default="sync")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProvisionalDocument(Base):
    """A document a user is editing over the sync service before creating it over REST (Decision 19).

    Visible to its owner only; merged into the document when the owner creates it, purged at expiry.
    """

    __tablename__ = "provisional_documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
