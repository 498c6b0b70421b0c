"""Every table, imported in one place so Alembic and the test harness see the whole schema."""

from mdreader_backend.audit.models import AuditLog
from mdreader_backend.auth.models import AuthSession, User
from mdreader_backend.database import Base
from mdreader_backend.documents.models import Document, DocumentUpdateLog, LivePresence, ProvisionalDocument
from mdreader_backend.folders.models import Folder
from mdreader_backend.sharing.models import DocumentShare, Invitation, ShareLink
from mdreader_backend.snapshots.models import DocumentSnapshot
from mdreader_backend.workspaces.models import Workspace, WorkspaceMember

__all__ = [
    "AuditLog",
    "AuthSession",
    "Base",
    "Document",
    "DocumentShare",
    "DocumentSnapshot",
    "DocumentUpdateLog",
    "Folder",
    "Invitation",
    "LivePresence",
    "ProvisionalDocument",
    "ShareLink",
    "User",
    "Workspace",
    "WorkspaceMember",
]
