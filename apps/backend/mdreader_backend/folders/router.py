"""/api/v1/folders (§2.7 with Decisions 9-13). `workspace_id` on per-folder routes is what the client sends;
when given it must name the folder's workspace."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from mdreader_backend.auth.dependencies import CurrentUser, DbSession
from mdreader_backend.folders import service
from mdreader_backend.folders.schemas import (
    FolderCreate,
    FolderList,
    FolderListItem,
    FolderMove,
    FolderResponse,
    FolderTree,
    FolderUpdate,
)
from mdreader_backend.schemas import error_responses

router = APIRouter(prefix="/api/v1/folders", tags=["folders"])
READ_ERRORS = error_responses(401, 403, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404)
OptionalWorkspace = Annotated[uuid.UUID | None, Query()]


@router.post(
    "", status_code=201, response_model=FolderResponse, responses=error_responses(401, 403, 404, 409)
)
async def create_folder(
    body: FolderCreate, workspace_id: Annotated[uuid.UUID, Query()], user: CurrentUser, session: DbSession
) -> FolderResponse:
    folder = await service.create_folder(session, user.id, workspace_id, body)
    await session.commit()
    return FolderResponse.model_validate(folder)


@router.get("/tree", response_model=FolderTree, responses=READ_ERRORS)
async def folder_tree(
    workspace_id: Annotated[uuid.UUID, Query()], user: CurrentUser, session: DbSession
) -> FolderTree:
    return FolderTree(folders=await service.folder_tree(session, user.id, workspace_id))


@router.get("/workspace/{workspace_id}", response_model=FolderList, responses=READ_ERRORS)
async def list_folders(
    workspace_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    parent_id: Annotated[
        uuid.UUID | Literal[""] | None,
        Query(description="Absent: every folder, flat. Empty: root folders. A folder id: its children."),
    ] = None,
) -> FolderList:
    scope: service.ListScope = "all" if parent_id is None else "roots" if parent_id == "" else parent_id
    rows = await service.list_folders(session, user.id, workspace_id, scope)
    items = [
        FolderListItem(document_count=count, **FolderResponse.model_validate(folder).model_dump())
        for folder, count in rows
    ]
    return FolderList(items=items, total=len(items))


@router.get("/{folder_id}", response_model=FolderResponse, responses=READ_ERRORS)
async def get_folder(
    folder_id: uuid.UUID, user: CurrentUser, session: DbSession, workspace_id: OptionalWorkspace = None
) -> FolderResponse:
    return FolderResponse.model_validate(await service.get_folder(session, user.id, folder_id, workspace_id))


@router.patch("/{folder_id}", response_model=FolderResponse, responses=WRITE_ERRORS)
async def update_folder(
    folder_id: uuid.UUID,
    body: FolderUpdate,
    user: CurrentUser,
    session: DbSession,
    workspace_id: OptionalWorkspace = None,
) -> FolderResponse:
    changes = body.model_dump(exclude_unset=True)
    folder = await service.update_folder(session, user.id, folder_id, workspace_id, changes)
    await session.commit()
    return FolderResponse.model_validate(folder)


@router.patch("/{folder_id}/move", response_model=FolderResponse, responses=WRITE_ERRORS)
@router.post("/{folder_id}/move", response_model=FolderResponse, responses=WRITE_ERRORS)
async def move_folder(
    folder_id: uuid.UUID,
    body: FolderMove,
    user: CurrentUser,
    session: DbSession,
    workspace_id: OptionalWorkspace = None,
) -> FolderResponse:
    """Moves under `parent_id` (null or absent: the root); `position` is kept unless given."""
    changes = body.model_dump(exclude_none=True) | {"parent_id": body.parent_id}
    folder = await service.update_folder(session, user.id, folder_id, workspace_id, changes)
    await session.commit()
    return FolderResponse.model_validate(folder)


@router.delete("/{folder_id}", status_code=204, responses=WRITE_ERRORS)
async def delete_folder(
    folder_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    workspace_id: OptionalWorkspace = None,
    cascade: bool = False,
) -> Response:
    await service.delete_folder(session, user.id, folder_id, workspace_id, cascade=cascade)
    await session.commit()
    return Response(status_code=204)
