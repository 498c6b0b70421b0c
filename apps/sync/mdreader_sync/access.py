"""Who may open a document over the sync service: the backend's token check and permission model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mdreader_backend.auth.service import principal_for_access_token
from mdreader_backend.documents.models import Document
from mdreader_backend.documents.provisional import open_provisional
from mdreader_backend.errors import ApiError
from mdreader_backend.permissions import document_role
from mdreader_backend.settings import Settings
from mdreader_backend.sharing.service import validate_share_token


@dataclass(frozen=True)
class Access:
    document_id: uuid.UUID
    read_only: bool
    user_id: uuid.UUID | None  # None for share-link guests
    provisional: bool  # a document the user may edit before creating it (Decision 19)


class AccessDenied(Exception):  # noqa: N818 - a refusal, not an error of ours
    """Sent to the client as PermissionDenied(reason); the socket stays open."""

    def __init__(self, reason: str = "permission-denied") -> None:
        super().__init__(reason)
        self.reason = reason


async def authorize(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    document_name: str,
    token: str,
    share_token: str | None,
    provisional_ttl: timedelta,
) -> Access:
    """Checks a (re)connect: an access JWT, or `?share_token=` for guests, against the document."""
    try:
        document_id = uuid.UUID(document_name)
    except ValueError:
        raise AccessDenied("invalid-document-name") from None
    async with sessions() as session:
        document = await session.get(Document, document_id)
        if share_token and not token:
            return await _share_link_access(session, document, document_id, share_token)
        if not token:
            raise AccessDenied("unauthorized")
        try:
            principal = await principal_for_access_token(session, settings, token)
        except ApiError:
            raise AccessDenied("unauthorized") from None
        user_id = principal.user.id
        if document is None:
            if await open_provisional(session, document_id, user_id, ttl=provisional_ttl):
                return Access(document_id=document_id, read_only=False, user_id=user_id, provisional=True)
            raise AccessDenied()
        role = await document_role(session, document, user_id)
        if role is None:
            raise AccessDenied()
        return Access(
            document_id=document_id, read_only=not role.can_write, user_id=user_id, provisional=False
        )


async def _share_link_access(
    session: AsyncSession, document: Document | None, document_id: uuid.UUID, share_token: str
) -> Access:
    # The guest spent a use on /share/validate before connecting; reconnects don't spend more.
    validation = await validate_share_token(session, share_token, None, count_use=False)
    if (
        not validation.valid
        or document is None
        or document.is_deleted
        or validation.document_id != document_id
    ):
        raise AccessDenied()
    assert validation.role is not None
    return Access(
        document_id=document_id, read_only=not validation.role.can_write, user_id=None, provisional=False
    )
