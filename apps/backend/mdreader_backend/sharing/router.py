"""Document sharing: invitations, members, ownership, share links and the public /share/validate."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from mdreader_backend.auth.dependencies import AppSettings, CurrentUser, DbSession
from mdreader_backend.email import send_quietly
from mdreader_backend.ratelimit import limit_auth_requests
from mdreader_backend.schemas import error_responses
from mdreader_backend.sharing import service
from mdreader_backend.sharing.schemas import (
    AcceptInvitationResponse,
    ChangeRoleRequest,
    InviteRequest,
    InviteResponse,
    MembersResponse,
    Outcome,
    ShareLinkCreate,
    ShareLinkList,
    ShareLinkResponse,
    TransferOwnershipRequest,
    TransferOwnershipResponse,
    ValidateRequest,
    ValidateResponse,
)

router = APIRouter(prefix="/api/v1", tags=["sharing"])
ERRORS = error_responses(401, 403, 404)


@router.post(
    "/documents/{document_id}/invite", status_code=201, response_model=InviteResponse, responses=ERRORS
)
async def invite(
    document_id: uuid.UUID,
    body: InviteRequest,
    request: Request,
    user: CurrentUser,
    session: DbSession,
    settings: AppSettings,
) -> InviteResponse:
    outcome = await service.invite(session, settings, document_id, user, body)
    await session.commit()
    for email in outcome.emails:
        await send_quietly(request.app.state.email, email)
    return outcome.response


@router.get("/documents/{document_id}/members", response_model=MembersResponse, responses=ERRORS)
async def list_members(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> MembersResponse:
    return await service.list_members(session, document_id, user)


@router.delete("/documents/{document_id}/members/{member_id}", response_model=Outcome, responses=ERRORS)
async def remove_member(
    document_id: uuid.UUID, member_id: uuid.UUID, user: CurrentUser, session: DbSession
) -> Outcome:
    """`member_id` is the share row id (what the client sends) or the member's user id."""
    await service.remove_member(session, document_id, user, member_id)
    await session.commit()
    return Outcome(message="Member removed successfully")


@router.post("/documents/{document_id}/members/{member_id}/role", response_model=Outcome, responses=ERRORS)
async def change_member_role(
    document_id: uuid.UUID,
    member_id: uuid.UUID,
    body: ChangeRoleRequest,
    user: CurrentUser,
    session: DbSession,
) -> Outcome:
    await service.change_member_role(session, document_id, user, member_id, body)
    await session.commit()
    return Outcome(message="Member role changed successfully")


@router.post(
    "/documents/{document_id}/transfer-ownership",
    response_model=TransferOwnershipResponse,
    responses=error_responses(400, 401, 403, 404),
)
async def transfer_ownership(
    document_id: uuid.UUID, body: TransferOwnershipRequest, user: CurrentUser, session: DbSession
) -> TransferOwnershipResponse:
    await service.transfer_ownership(session, document_id, user, body.new_owner_id)
    await session.commit()
    return TransferOwnershipResponse(new_owner_id=body.new_owner_id)


@router.post(
    "/invitations/{token}/accept",
    response_model=AcceptInvitationResponse,
    responses=error_responses(401, 403, 404, 410),
)
async def accept_invitation(token: str, user: CurrentUser, session: DbSession) -> AcceptInvitationResponse:
    response = await service.accept_invitation(session, token, user)
    await session.commit()
    return response


@router.post(
    "/invitations/{token}/decline", response_model=Outcome, responses=error_responses(400, 401, 403, 404)
)
async def decline_invitation(token: str, user: CurrentUser, session: DbSession) -> Outcome:
    await service.decline_invitation(session, token, user)
    await session.commit()
    return Outcome(message="Invitation declined")


@router.post(
    "/documents/{document_id}/share-links",
    status_code=201,
    response_model=ShareLinkResponse,
    responses=ERRORS,
)
async def create_share_link(
    document_id: uuid.UUID,
    body: ShareLinkCreate,
    user: CurrentUser,
    session: DbSession,
    settings: AppSettings,
) -> ShareLinkResponse:
    link = await service.create_share_link(session, settings, document_id, user, body)
    await session.commit()
    return link


@router.get("/documents/{document_id}/share-links", response_model=ShareLinkList, responses=ERRORS)
async def list_share_links(document_id: uuid.UUID, user: CurrentUser, session: DbSession) -> ShareLinkList:
    return ShareLinkList(links=await service.list_share_links(session, document_id, user))


@router.delete("/documents/{document_id}/share-links/{link_id}", response_model=Outcome, responses=ERRORS)
async def revoke_share_link(
    document_id: uuid.UUID, link_id: uuid.UUID, user: CurrentUser, session: DbSession
) -> Outcome:
    await service.revoke_share_link(session, document_id, user, link_id)
    await session.commit()
    return Outcome(message="Share link revoked successfully")


@router.post(
    "/share/validate",
    response_model=ValidateResponse,
    responses=error_responses(429),
    # Public and password-checking: limited per client address like the auth endpoints.
    dependencies=[Depends(limit_auth_requests("share-validate"))],
)
async def validate_share_link(body: ValidateRequest, session: DbSession) -> ValidateResponse:
    """Always 200: `valid` answers, `reason` says why not. A valid answer spends one use."""
    result = await service.validate_share_token(session, body.token, body.password)
    await session.commit()
    return ValidateResponse(
        valid=result.valid,
        document_id=result.document_id,
        mode=result.mode,
        reason=result.reason,
        error=result.error,
    )
