"""/api/v1/documents: CRUD, lists, star, the live snapshot and batch sync."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from mdreader_backend.auth.dependencies import CurrentUser, DbSession
from mdreader_backend.auth.models import User
from mdreader_backend.documents import batch, service
from mdreader_backend.documents.batch import BatchRequest, BatchResponse
from mdreader_backend.documents.models import Document
from mdreader_backend.documents.schemas import (
    DocumentCreate,
    DocumentDetail,
    DocumentList,
    DocumentListItem,
    DocumentResponse,
    DocumentUpdate,
    LiveSnapshot,
    LiveSnapshotPush,
    StarResponse,
)
from mdreader_backend.errors import ApiError
from mdreader_backend.permissions import Role, require_document_role
from mdreader_backend.schemas import MAX_PAGE, encode_base64, error_responses

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
ERRORS = error_responses(400, 401, 403, 404, 409)


def _list(documents: list[Document], total: int, page: int, page_size: int) -> DocumentList:
    return DocumentList(
        items=[DocumentListItem.model_validate(document) for document in documents],
        total=total,
        page=page,
        page_size=page_size,
        has_more=page * page_size < total,
    )


# Static paths first: /shared-with-me and /batch must not be read as a {document_id}.
@router.get("/shared-with-me", response_model=DocumentList, responses=ERRORS)
async def shared_with_me(
    user: CurrentUser,
    session: DbSession,
    page: int = Query(1, ge=1, le=MAX_PAGE, description="accepted; the list is not paged"),
    page_size: int = Query(50, ge=1, le=100, description="accepted; the list is not paged"),
) -> DocumentList:
    documents = await service.shared_with_me(session, user)
    return DocumentList(
        items=[DocumentListItem.model_validate(document) for document in documents],
        total=len(documents),
        page=page,
        page_size=page_size,
        has_more=False,
    )


@router.post("/batch", response_model=BatchResponse, response_model_by_alias=False, responses=ERRORS)
async def batch_sync(body: BatchRequest, user: CurrentUser, session: DbSession) -> BatchResponse:
    return await batch.run(session, user, body)


@router.post("", status_code=201, response_model=DocumentResponse, responses=ERRORS)
async def create_document(
    body: DocumentCreate, user: CurrentUser, session: DbSession, workspace_id: uuid.UUID = Query(...)
) -> DocumentResponse:
    document, _ = await service.create(session, user, workspace_id, body)
    await session.commit()
    return DocumentResponse.model_validate(document)


@router.get("/workspace/{workspace_id}", response_model=DocumentList, responses=ERRORS)
async def list_workspace_documents(
    workspace_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=100),
    folder_id: uuid.UUID | None = Query(None),
    tags: str | None = Query(None, description="comma-separated; documents with any of them"),
    is_starred: bool | None = Query(None),
    is_template: bool | None = Query(None),
    sort_by: Literal["updated_at", "created_at", "title"] = Query("updated_at"),
    sort_order: Literal["asc", "desc"] = Query("desc"),
) -> DocumentList:
    documents, total = await service.list_in_workspace(
        session,
        user,
        workspace_id,
        page=page,
        page_size=page_size,
        folder_id=folder_id,
        tags=[tag.strip() for tag in (tags or "").split(",") if tag.strip()],
        is_starred=is_starred,
        is_template=is_template,
        sort_by=sort_by,
        sort_order=sort_order,
    )
    return _list(documents, total, page, page_size)


class _DetailSource:
    """The document's attributes plus its creator as `created_by`: DocumentDetail validates from it in
    one pass (from_attributes), no intermediate model or dict."""

    __slots__ = ("_document", "created_by")

    def __init__(self, document: Document, creator: User) -> None:
        self._document = document
        self.created_by = creator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._document, name)


async def _detail(session: DbSession, document: Document) -> DocumentDetail:
    creator = await session.get(User, document.created_by_id)  # loaded by with_creator: no query
    assert creator is not None  # created_by_id is a foreign key
    return DocumentDetail.model_validate(_DetailSource(document, creator))


@router.get("/{document_id}", response_model=DocumentDetail, responses=ERRORS)
async def get_document(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> DocumentDetail:
    document, _ = await require_document_role(
        session, document_id, user.id, Role.VIEWER, denied="No access to document", with_creator=True
    )
    return await _detail(session, document)


@router.patch("/{document_id}", response_model=DocumentResponse, responses=ERRORS)
async def update_document(
    document_id: uuid.UUID, body: DocumentUpdate, user: CurrentUser, session: DbSession
) -> DocumentResponse:
    document = await service.update(session, user, document_id, body)
    await session.commit()
    return DocumentResponse.model_validate(document)


@router.delete("/{document_id}", status_code=204, responses=ERRORS)
async def delete_document(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> Response:
    await service.delete(session, user, document_id)
    await session.commit()
    return Response(status_code=204)


@router.post("/{document_id}/star", response_model=StarResponse, responses=ERRORS)
async def star_document(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> StarResponse:
    document = await service.set_star(session, user, document_id, True)
    await session.commit()
    return StarResponse.model_validate(document)


@router.delete("/{document_id}/star", response_model=StarResponse, responses=ERRORS)
async def unstar_document(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> StarResponse:
    document = await service.set_star(session, user, document_id, False)
    await session.commit()
    return StarResponse.model_validate(document)


@router.post("/{document_id}/snapshot", status_code=204, responses=ERRORS)
async def push_live_snapshot(
    document_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    push: LiveSnapshotPush,
) -> Response:
    if push.yjs_state is None:
        raise ApiError(400, "yjs_state is required")
    await service.push_live_snapshot(session, user, document_id, push.yjs_state, push.html or "")
    await session.commit()
    return Response(status_code=204)


@router.get("/{document_id}/snapshot", response_model=LiveSnapshot, responses=ERRORS)
async def get_live_snapshot(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> LiveSnapshot:
    document, _ = await require_document_role(
        session, document_id, user.id, Role.VIEWER, denied="No access to document"
    )
    if document.yjs_state is None:
        raise ApiError(404, "No snapshot found")
    return LiveSnapshot(
        yjs_state=encode_base64(document.yjs_state) or "",
        html=document.content or "",
        updated_at=document.updated_at,
    )
