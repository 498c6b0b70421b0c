"""/api/v1/workspaces, their members, and /api/v1/users/me/workspaces."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from mdreader_backend.auth.dependencies import CurrentUser, DbSession
from mdreader_backend.auth.models import User
from mdreader_backend.errors import ApiError
from mdreader_backend.permissions import Role, require_workspace_role
from mdreader_backend.schemas import MAX_PAGE, error_responses
from mdreader_backend.workspaces import service
from mdreader_backend.workspaces.models import Workspace, WorkspaceMember
from mdreader_backend.workspaces.schemas import (
    MemberAdd,
    MemberList,
    MemberResponse,
    MemberRoleChange,
    MyWorkspace,
    MyWorkspaceList,
    OwnershipTransfer,
    WorkspaceCreate,
    WorkspaceDetail,
    WorkspaceList,
    WorkspaceOwner,
    WorkspaceResponse,
    WorkspaceStats,
    WorkspaceUpdate,
)

router = APIRouter(tags=["workspaces"])
ERRORS = error_responses(400, 401, 403, 404, 409)


def _member_response(member: WorkspaceMember, user: User) -> MemberResponse:
    return MemberResponse(
        id=member.id,
        workspace_id=member.workspace_id,
        user_id=member.user_id,
        email=user.email,
        username=user.username,
        full_name=user.full_name,
        role=member.role,
        granted_by=member.granted_by,
        granted_at=member.granted_at,
        expires_at=member.expires_at,
        status=member.status,
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


@router.post("/api/v1/workspaces", status_code=201, response_model=WorkspaceResponse, responses=ERRORS)
async def create_workspace(body: WorkspaceCreate, user: CurrentUser, session: DbSession) -> WorkspaceResponse:
    workspace, _ = await service.create_or_upsert(session, user, body)
    await session.commit()
    return WorkspaceResponse.model_validate(workspace)


@router.get("/api/v1/workspaces", response_model=WorkspaceList, responses=ERRORS)
async def list_workspaces(
    user: CurrentUser,
    session: DbSession,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=100),
    include_archived: bool = Query(False, description="accepted for compatibility; there is no archive"),
) -> WorkspaceList:
    workspaces, total = await service.list_for_user(session, user, page=page, page_size=page_size)
    stats = await service.counts(session, [workspace.id for workspace in workspaces])
    items = [
        WorkspaceResponse.model_validate(workspace).model_copy(update=stats[workspace.id])
        for workspace in workspaces
    ]
    return WorkspaceList(
        items=items, total=total, page=page, page_size=page_size, has_more=page * page_size < total
    )


@router.get("/api/v1/workspaces/{workspace_id}", response_model=WorkspaceDetail, responses=ERRORS)
async def get_workspace(workspace_id: uuid.UUID, user: CurrentUser, session: DbSession) -> WorkspaceDetail:
    not_found = "Workspace not found or no access"
    try:
        workspace, _ = await require_workspace_role(
            session, workspace_id, user.id, Role.VIEWER, not_found=not_found
        )
    except ApiError as error:
        raise ApiError(404, not_found) from error  # non-members can't tell a private workspace exists
    owner = await session.get(User, workspace.owner_id)
    assert owner is not None  # owner_id is a foreign key
    return WorkspaceDetail(
        id=workspace.id,
        name=workspace.name,
        slug=workspace.slug,
        description=workspace.description,
        icon=workspace.icon,
        is_public=workspace.is_public,
        owner=WorkspaceOwner.model_validate(owner),
        stats=WorkspaceStats(**await service.detail_stats(session, workspace)),
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
    )


async def _update(
    workspace_id: uuid.UUID, body: WorkspaceUpdate, user: User, session: DbSession
) -> Workspace:
    workspace, _ = await require_workspace_role(
        session, workspace_id, user.id, Role.ADMIN, denied="No permission to update workspace"
    )
    service.apply_update(workspace, body.model_dump(exclude_unset=True))
    await session.commit()
    return workspace


@router.patch("/api/v1/workspaces/{workspace_id}", response_model=WorkspaceResponse, responses=ERRORS)
async def update_workspace(
    workspace_id: uuid.UUID, body: WorkspaceUpdate, user: CurrentUser, session: DbSession
) -> WorkspaceResponse:
    return WorkspaceResponse.model_validate(await _update(workspace_id, body, user, session))


@router.put("/api/v1/workspaces/{workspace_id}", response_model=WorkspaceResponse, responses=ERRORS)
async def replace_workspace(
    workspace_id: uuid.UUID, body: WorkspaceUpdate, user: CurrentUser, session: DbSession
) -> WorkspaceResponse:
    """Alias of PATCH (Decision 8): the client's updateWorkspace uses PUT."""
    return WorkspaceResponse.model_validate(await _update(workspace_id, body, user, session))


@router.delete("/api/v1/workspaces/{workspace_id}", status_code=204, responses=ERRORS)
async def delete_workspace(
    workspace_id: uuid.UUID, user: CurrentUser, session: DbSession, cascade: bool = Query(False)
) -> Response:
    workspace, role = await require_workspace_role(
        session, workspace_id, user.id, Role.VIEWER, denied="Only workspace owner can delete workspace"
    )
    if role < Role.OWNER:
        raise ApiError(403, "Only workspace owner can delete workspace")
    await service.delete(session, workspace, cascade=cascade)
    await session.commit()
    return Response(status_code=204)


# --- members ---------------------------------------------------------------------------------------


@router.post(
    "/api/v1/workspaces/{workspace_id}/members",
    status_code=201,
    response_model=MemberResponse,
    responses=ERRORS,
)
async def add_member(
    workspace_id: uuid.UUID, body: MemberAdd, user: CurrentUser, session: DbSession
) -> MemberResponse:
    workspace, role = await service.require_member_manager(session, workspace_id, user)
    member = await service.add_member(session, workspace, user, role, body)
    await session.commit()
    target = await session.get(User, member.user_id)
    assert target is not None
    return _member_response(member, target)


@router.get("/api/v1/workspaces/{workspace_id}/members", response_model=MemberList, responses=ERRORS)
async def list_members(workspace_id: uuid.UUID, user: CurrentUser, session: DbSession) -> MemberList:
    members = await service.member_rows(session, workspace_id)
    if not any(member.user_id == user.id for member, _ in members):
        raise ApiError(403, "Forbidden: Not a workspace member")
    data = [_member_response(member, member_user) for member, member_user in members]
    return MemberList(data=data, total=len(data), workspace_id=workspace_id)


@router.delete("/api/v1/workspaces/{workspace_id}/members/{user_id}", status_code=204, responses=ERRORS)
async def remove_member(
    workspace_id: uuid.UUID, user_id: uuid.UUID, user: CurrentUser, session: DbSession
) -> Response:
    workspace, role = await service.require_member_manager(session, workspace_id, user)
    await service.remove_member(session, workspace, user, role, user_id)
    await session.commit()
    return Response(status_code=204)


@router.patch(
    "/api/v1/workspaces/{workspace_id}/members/{user_id}/role",
    response_model=MemberResponse,
    responses=ERRORS,
)
async def change_member_role(
    workspace_id: uuid.UUID, user_id: uuid.UUID, body: MemberRoleChange, user: CurrentUser, session: DbSession
) -> MemberResponse:
    workspace, role = await service.require_member_manager(session, workspace_id, user)
    member = await service.change_role(session, workspace, user, role, user_id, body.role)
    await session.commit()
    target = await session.get(User, member.user_id)
    assert target is not None
    return _member_response(member, target)


@router.post("/api/v1/workspaces/{workspace_id}/transfer-ownership", status_code=204, responses=ERRORS)
async def transfer_ownership(
    workspace_id: uuid.UUID, body: OwnershipTransfer, user: CurrentUser, session: DbSession
) -> Response:
    await service.transfer_ownership(
        session, workspace_id, user, body.new_owner_id, body.demote_current_owner_to
    )
    await session.commit()
    return Response(status_code=204)


@router.get("/api/v1/users/me/workspaces", response_model=MyWorkspaceList, responses=ERRORS)
async def my_workspaces(user: CurrentUser, session: DbSession) -> MyWorkspaceList:
    rows = await service.my_workspaces(session, user)
    stats = await service.counts(session, [workspace.id for workspace, _ in rows])
    data = [
        MyWorkspace(
            id=workspace.id,
            name=workspace.name,
            slug=workspace.slug,
            description=workspace.description,
            icon=workspace.icon,
            owner_id=workspace.owner_id,
            role=role,
            created_at=workspace.created_at,
            updated_at=workspace.updated_at,
            **stats[workspace.id],
        )
        for workspace, role in rows
    ]
    return MyWorkspaceList(data=data, total=len(data))
