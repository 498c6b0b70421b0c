"""POST /api/v1/documents/batch: the client's "sync all", in snake_case or camelCase (Decision 7).

Creates run first, then updates, then deletes. Non-atomic batches isolate each operation in a savepoint;
atomic ones run in one transaction and roll back entirely on the first failure. `expected_version`
is checked: a mismatch is a `conflict` result carrying the server's version.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, computed_field
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.auth.models import User
from mdreader_backend.documents import service
from mdreader_backend.documents.schemas import DocumentCreate, DocumentUpdate
from mdreader_backend.errors import ApiError
from mdreader_backend.permissions import Role, require_document_role
from mdreader_backend.schemas import ApiModel

OperationKind = Literal["create", "update", "delete"]
Status = Literal["success", "conflict", "error", "skipped"]
ORDER: dict[str, int] = {"create": 0, "update": 1, "delete": 2}


def _either(name: str, camel: str) -> AliasChoices:
    return AliasChoices(name, camel)


class BatchOperation(ApiModel):
    operation: OperationKind
    client_id: str = Field(min_length=1, max_length=200, validation_alias=_either("client_id", "clientId"))
    document_id: str | None = Field(default=None, validation_alias=_either("document_id", "documentId"))
    data: dict[str, Any] | None = None
    expected_version: int | None = Field(
        default=None, validation_alias=_either("expected_version", "expectedVersion")
    )


class BatchRequest(ApiModel):
    workspace_id: uuid.UUID = Field(validation_alias=_either("workspace_id", "workspaceId"))
    operations: list[BatchOperation] = Field(min_length=1, max_length=100)
    atomic: bool = False


class BatchResult(BaseModel):
    """Each key is sent in both spellings, since the client reads camelCase and older tools snake_case."""

    model_config = ConfigDict(serialize_by_alias=False)

    client_id: str
    status: Status
    document_id: str | None = None
    version: int | None = None
    error: str | None = None
    conflict_data: dict[str, Any] | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def clientId(self) -> str:  # noqa: N802 - wire name
        return self.client_id

    @computed_field  # type: ignore[prop-decorator]
    @property
    def documentId(self) -> str | None:  # noqa: N802 - wire name
        return self.document_id

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conflictData(self) -> dict[str, Any] | None:  # noqa: N802 - wire name
        return self.conflict_data


class BatchResponse(BaseModel):
    total: int
    successful: int
    failed: int
    results: list[BatchResult]
    processing_time_ms: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def processingTimeMs(self) -> float:  # noqa: N802 - wire name
        return self.processing_time_ms


class _OperationFailedError(Exception):
    def __init__(self, result: BatchResult) -> None:
        super().__init__(result.error)
        self.result = result


def _resolve_id(operation: BatchOperation, created: dict[str, str]) -> uuid.UUID:
    raw = operation.document_id or (operation.data or {}).get("id") or created.get(operation.client_id)
    raw = created.get(str(raw), raw) if raw else raw
    if not raw:
        raise ApiError(400, f"Missing document_id for {operation.operation} operation")
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise ApiError(400, f"Invalid document_id '{raw}'") from None


async def _check_version(
    session: AsyncSession, user: User, document_id: uuid.UUID, operation: BatchOperation
) -> BatchResult | None:
    if operation.expected_version is None:
        return None
    document, _ = await require_document_role(session, document_id, user.id, Role.VIEWER)
    if document.version == operation.expected_version:
        return None
    return BatchResult(
        client_id=operation.client_id,
        status="conflict",
        document_id=str(document_id),
        version=document.version,
        error=f"Version conflict: expected {operation.expected_version}, server has {document.version}",
        conflict_data={
            "server_version": document.version,
            "server_updated_at": document.updated_at.isoformat(),
        },
    )


async def _execute(
    session: AsyncSession,
    user: User,
    workspace_id: uuid.UUID,
    operation: BatchOperation,
    created: dict[str, str],
) -> BatchResult:
    ok = BatchResult(client_id=operation.client_id, status="success")
    if operation.operation == "create":
        body = DocumentCreate.model_validate(operation.data or {})
        document, _ = await service.create(session, user, workspace_id, body)
        created[operation.client_id] = str(document.id)
        return ok.model_copy(update={"document_id": str(document.id), "version": document.version})
    document_id = _resolve_id(operation, created)
    conflict = await _check_version(session, user, document_id, operation)
    if conflict is not None:
        return conflict
    if operation.operation == "update":
        changes = DocumentUpdate.model_validate(
            {k: v for k, v in (operation.data or {}).items() if k != "id"}
        )
        document = await service.update(session, user, document_id, changes)
        return ok.model_copy(update={"document_id": str(document_id), "version": document.version})
    await service.delete(session, user, document_id)
    return ok.model_copy(update={"document_id": str(document_id)})


async def _run_one(
    session: AsyncSession,
    user: User,
    request: BatchRequest,
    operation: BatchOperation,
    created: dict[str, str],
) -> BatchResult:
    try:
        result = await _execute(session, user, request.workspace_id, operation, created)
    except ApiError as error:
        result = BatchResult(client_id=operation.client_id, status="error", error=str(error.detail))
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        result = BatchResult(client_id=operation.client_id, status="error", error=f"Invalid data: {reasons}")
    if result.status != "success":
        raise _OperationFailedError(result)
    return result


async def run(session: AsyncSession, user: User, request: BatchRequest) -> BatchResponse:
    started = time.perf_counter()
    created: dict[str, str] = {}
    operations = sorted(request.operations, key=lambda op: ORDER[op.operation])
    results: list[BatchResult] = []
    for operation in operations:
        try:
            if request.atomic:
                results.append(await _run_one(session, user, request, operation, created))
            else:
                async with session.begin_nested():
                    results.append(await _run_one(session, user, request, operation, created))
        except _OperationFailedError as failure:
            if request.atomic:
                await session.rollback()
                raise ApiError(
                    409,
                    f"Atomic batch failed: Operation {operation.client_id} failed: {failure.result.error}",
                ) from None
            results.append(failure.result)
    await session.commit()
    successful = sum(result.status == "success" for result in results)
    return BatchResponse(
        total=len(results),
        successful=successful,
        failed=len(results) - successful,
        results=results,
        processing_time_ms=round((time.perf_counter() - started) * 1000, 3),
    )
