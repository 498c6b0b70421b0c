"""The authorization matrix: every endpoint family of the REST API x every role, from one declarative table.

Roles (Decision 12: role on a document = max(workspace role, document share role)):

* owner, admin, editor, viewer: members of the workspace holding the document (POST .../members);
* commenter: no workspace role, only a document share (invitation accepted) on the team document;
* non_member: an authenticated outsider; anonymous: no token.

RULES below gives, per endpoint, the minimum role and its scope (the workspace role or the document role
decides). `expected_status` turns a rule and a role into the one status the cell must answer: the rule's
success status, its denial status (403, or 404 where the contract hides existence), or 401 for anonymous.
Every cell is asserted exactly, so any unauthorized success fails the test.

The cross-tenant tests at the end give a user full rights in workspace B and point B's ids at workspace
A's resources (and A's ids into B's URLs): A's data is never read or written.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pycrdt import Doc, Text

from mdreader_backend.email import LogEmailSender
from tests.backend.conftest import (
    PASSWORD,
    Account,
    Team,
    add_workspace_member,
    api,
    create_document,
    create_workspace,
    invite,
    invite_token,
    make_team,
    register,
    share,
    share_row_id,
)

# --- roles --------------------------------------------------------------------------------------------

# Ascending privilege: a destructive call that one role is allowed runs only after every weaker role tried.
ROLES = ("anonymous", "non_member", "viewer", "commenter", "editor", "admin", "owner")
LEVEL = {"viewer": 1, "commenter": 2, "editor": 3, "admin": 4, "owner": 5}
# The role each actor holds, by scope. The commenter exists only as a document share.
HELD: dict[str, dict[str, str | None]] = {
    "workspace": {
        "owner": "owner",
        "admin": "admin",
        "editor": "editor",
        "viewer": "viewer",
        "commenter": None,
        "non_member": None,
    },
    "document": {
        "owner": "owner",
        "admin": "admin",
        "editor": "editor",
        "viewer": "viewer",
        "commenter": "commenter",
        "non_member": None,
    },
}
PUBLIC = "public"  # no token needed: everyone, anonymous included
USER = "user"  # any authenticated user
NOBODY = "nobody"  # no role at all may do it


def yjs_update(text: str) -> str:
    doc: Doc[Any] = Doc()
    doc["content"] = Text(text)
    return base64.b64encode(doc.get_update()).decode()


# --- the world every cell runs against ----------------------------------------------------------------

_fresh = itertools.count()


@dataclass
class World:
    client: httpx.AsyncClient
    outbox: LogEmailSender
    team: Team
    ids: dict[str, str]
    link_token: str
    host: Account  # an unrelated user with a document of their own, who sends invitations to the actors

    def account(self, role: str) -> Account | None:
        if role == "anonymous":
            return None
        return self.team["outsider" if role == "non_member" else role]

    @property
    def owner(self) -> Account:
        return self.team["owner"]


def ok(response: httpx.Response, *expected: int) -> dict[str, Any]:
    assert response.status_code in expected, response.text
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def make_world(client: httpx.AsyncClient, outbox: LogEmailSender) -> World:
    team = await make_team(client, outbox)
    owner = team["owner"]
    document = api(team.document_id)
    ok(await client.patch(document, json={"yjs_state_b64": yjs_update("hello")}, headers=owner.headers), 200)
    folder = ok(
        await client.post(
            "/api/v1/folders",
            params={"workspace_id": team.workspace_id},
            json={"name": "F"},
            headers=owner.headers,
        ),
        201,
    )
    snapshot = ok(
        await client.post(
            api(team.document_id, "/snapshots"),
            json={"yjs_state_base64": yjs_update("v1")},
            headers=owner.headers,
        ),
        201,
    )
    link = ok(
        await client.post(
            api(team.document_id, "/share-links"), json={"mode": "view"}, headers=owner.headers
        ),
        201,
    )
    host = await register(client, "host_user")
    host_workspace = await create_workspace(client, host)
    host_document = await create_document(client, host, host_workspace["id"])
    ids = {
        "workspace": team.workspace_id,
        "document": team.document_id,
        "folder": folder["id"],
        "snapshot": snapshot["snapshot_id"],
        "link": link["id"],
        "host_document": host_document["id"],
    }
    return World(client, outbox, team, ids, link["token"], host)


# --- per-cell preparation: fresh targets for calls that consume them ----------------------------------

Prepare = Callable[[World, str], Awaitable[dict[str, str]]]


async def fresh_document(world: World, role: str) -> dict[str, str]:
    """A document of the owner's in the team workspace, shared with the commenter like the team document."""
    document = await create_document(world.client, world.owner, world.team.workspace_id)
    await share(world.client, world.outbox, world.owner, document["id"], world.team["commenter"], "commenter")
    return {"document": document["id"]}


async def fresh_workspace_member(world: World, role: str) -> dict[str, str]:
    member = await register(world.client, f"wsmember{next(_fresh)}")
    await add_workspace_member(world.client, world.owner, world.team.workspace_id, member, "viewer")
    return {"member_user": member.id}


async def fresh_user(world: World, role: str) -> dict[str, str]:
    return {"member_user": (await register(world.client, f"newuser{next(_fresh)}")).id}


async def fresh_document_member(world: World, role: str) -> dict[str, str]:
    member = await register(world.client, f"docmember{next(_fresh)}")
    await share(world.client, world.outbox, world.owner, world.team.document_id, member, "viewer")
    return {"member_share": await share_row_id(world.client, world.owner, world.team.document_id, member)}


async def fresh_link(world: World, role: str) -> dict[str, str]:
    response = await world.client.post(
        api(world.team.document_id, "/share-links"), json={"mode": "view"}, headers=world.owner.headers
    )
    return {"link": (ok(response, 201))["id"]}


async def fresh_folder(world: World, role: str) -> dict[str, str]:
    response = await world.client.post(
        "/api/v1/folders",
        params={"workspace_id": world.team.workspace_id},
        json={"name": f"Fresh {next(_fresh)}"},
        headers=world.owner.headers,
    )
    return {"folder": (ok(response, 201))["id"]}


async def fresh_backup(world: World, role: str) -> dict[str, str]:
    response = await world.client.post(
        api(world.team.document_id, "/snapshots"),
        json={"yjs_state_base64": yjs_update("backup"), "type": "restore-backup"},
        headers=world.owner.headers,
    )
    return {"backup": (ok(response, 201))["snapshot_id"]}


def _invitee(world: World, role: str) -> str:
    account = world.account(role)
    return account.email if account else f"anonymous{next(_fresh)}@example.com"


async def invitation_to_actor(world: World, role: str) -> dict[str, str]:
    """An invitation from the host (not on the team) addressed to the acting user."""
    address = _invitee(world, role)
    response = await invite(world.client, world.host, world.ids["host_document"], address, role="viewer")
    ok(response, 201)
    return {"token": invite_token(world.outbox, address)}


async def invitation_to_stranger(world: World, role: str) -> dict[str, str]:
    address = f"stranger{next(_fresh)}@example.com"
    response = await invite(world.client, world.host, world.ids["host_document"], address, role="editor")
    ok(response, 201)
    return {"token": invite_token(world.outbox, address)}


# --- the table ----------------------------------------------------------------------------------------

Body = Callable[[World, str, dict[str, str]], Any]


@dataclass(frozen=True)
class Rule:
    """One endpoint: who may call it (minimum role, in which scope) and what allowed/denied calls answer."""

    family: str
    method: str
    path: str  # placeholders: {workspace} {document} {folder} {snapshot} {link} and what `prepare` adds
    minimum: str  # PUBLIC, USER, NOBODY, or a role name
    scope: str = "document"  # whose role decides: "workspace" or "document"
    status: int = 200  # the success status
    denied: int = 403
    body: Body | None = None
    params: dict[str, str] = field(default_factory=dict)
    prepare: Prepare | None = None

    @property
    def name(self) -> str:
        return f"{self.family}: {self.method} {self.path}"


def body(value: Any) -> Body:
    return lambda world, role, ids: value


W, D = "workspace", "document"
DOCS, SNAPS = "/api/v1/documents/{document}", "/api/v1/documents/{document}/snapshots"

RULES: list[Rule] = [
    # auth
    Rule("auth", "GET", "/api/v1/auth/me", USER),
    Rule("auth", "POST", "/api/v1/auth/logout", USER, status=204),
    Rule(
        "auth",
        "POST",
        "/api/v1/auth/login",
        PUBLIC,
        body=lambda world, role, ids: {"email": world.owner.email, "password": PASSWORD},
    ),
    Rule("health", "GET", "/api/v1/health", PUBLIC),
    # workspaces
    Rule(
        "workspaces", "POST", "/api/v1/workspaces", USER, status=201, body=lambda w, r, i: {"name": f"By {r}"}
    ),
    Rule("workspaces", "GET", "/api/v1/workspaces", USER),
    Rule("workspaces", "GET", "/api/v1/workspaces/{workspace}", "viewer", W, denied=404),
    Rule("workspaces", "PATCH", "/api/v1/workspaces/{workspace}", "admin", W, body=body({"name": "Renamed"})),
    Rule("workspaces", "PUT", "/api/v1/workspaces/{workspace}", "admin", W, body=body({"description": "d"})),
    Rule(
        "workspaces",
        "DELETE",
        "/api/v1/workspaces/{workspace}",
        "owner",
        W,
        status=204,
        params={"cascade": "true"},
    ),
    Rule("workspaces", "GET", "/api/v1/users/me/workspaces", USER),
    # workspace members
    Rule("workspace members", "GET", "/api/v1/workspaces/{workspace}/members", "viewer", W),
    Rule(
        "workspace members",
        "POST",
        "/api/v1/workspaces/{workspace}/members",
        "admin",
        W,
        status=201,
        body=lambda w, r, ids: {"user_id": ids["member_user"], "role": "viewer"},
        prepare=fresh_user,
    ),
    Rule(
        "workspace members",
        "PATCH",
        "/api/v1/workspaces/{workspace}/members/{member_user}/role",
        "admin",
        W,
        body=body({"role": "editor"}),
        prepare=fresh_workspace_member,
    ),
    Rule(
        "workspace members",
        "DELETE",
        "/api/v1/workspaces/{workspace}/members/{member_user}",
        "admin",
        W,
        status=204,
        prepare=fresh_workspace_member,
    ),
    Rule(
        "workspace members",
        "POST",
        "/api/v1/workspaces/{workspace}/transfer-ownership",
        "owner",
        W,
        status=204,
        body=lambda world, r, i: {"new_owner_id": world.team["editor"].id},
    ),
    # documents
    Rule(
        "documents",
        "POST",
        "/api/v1/documents",
        "editor",
        W,
        status=201,
        params={"workspace_id": "{workspace}"},
        body=body({"title": "New"}),
    ),
    Rule("documents", "GET", "/api/v1/documents/workspace/{workspace}", "viewer", W),
    Rule("documents", "GET", "/api/v1/documents/shared-with-me", USER),
    Rule("documents", "GET", DOCS, "viewer"),
    Rule("documents", "PATCH", DOCS, "editor", body=body({"title": "Edited"})),
    # Publishing shares the document with every user: it takes what sharing takes.
    Rule("documents", "PATCH", DOCS, "admin", body=body({"is_public": True}), prepare=fresh_document),
    # Editors delete only their own documents; this one is the owner's, so admin is the minimum.
    Rule("documents", "DELETE", DOCS, "admin", status=204, prepare=fresh_document),
    Rule("documents", "POST", DOCS + "/star", "editor"),
    Rule("documents", "DELETE", DOCS + "/star", "editor"),
    Rule("documents", "GET", DOCS + "/snapshot", "viewer"),
    Rule(
        "documents",
        "POST",
        DOCS + "/snapshot",
        "editor",
        status=204,
        body=lambda w, role, i: {"yjs_state": yjs_update(role), "html": f"<p>{role}</p>"},
    ),
    # folders
    Rule(
        "folders",
        "POST",
        "/api/v1/folders",
        "editor",
        W,
        status=201,
        params={"workspace_id": "{workspace}"},
        body=lambda w, role, i: {"name": f"By {role}"},
    ),
    Rule("folders", "GET", "/api/v1/folders/tree", "viewer", W, params={"workspace_id": "{workspace}"}),
    Rule("folders", "GET", "/api/v1/folders/workspace/{workspace}", "viewer", W),
    Rule("folders", "GET", "/api/v1/folders/{folder}", "viewer", W),
    Rule("folders", "PATCH", "/api/v1/folders/{folder}", "editor", W, body=body({"name": "Renamed"})),
    Rule("folders", "POST", "/api/v1/folders/{folder}/move", "editor", W, body=body({"parent_id": None})),
    Rule("folders", "PATCH", "/api/v1/folders/{folder}/move", "editor", W, body=body({"position": 3})),
    Rule("folders", "DELETE", "/api/v1/folders/{folder}", "editor", W, status=204, prepare=fresh_folder),
    # document sharing, invitations, members
    Rule(
        "sharing",
        "POST",
        DOCS + "/invite",
        "admin",
        status=201,
        body=lambda w, role, i: {"emails": [f"guest-of-{role}@example.com"], "role": "viewer"},
    ),
    Rule("sharing", "GET", DOCS + "/members", "viewer"),
    Rule(
        "sharing",
        "POST",
        DOCS + "/members/{member_share}/role",
        "admin",
        body=body({"role": "editor"}),
        prepare=fresh_document_member,
    ),
    Rule("sharing", "DELETE", DOCS + "/members/{member_share}", "admin", prepare=fresh_document_member),
    Rule(
        "sharing",
        "POST",
        DOCS + "/transfer-ownership",
        "owner",
        body=lambda world, r, i: {"new_owner_id": world.team["editor"].id},
    ),
    Rule("invitations", "POST", "/api/v1/invitations/{token}/accept", USER, prepare=invitation_to_actor),
    Rule("invitations", "POST", "/api/v1/invitations/{token}/decline", USER, prepare=invitation_to_actor),
    Rule("invitations", "POST", "/api/v1/invitations/{token}/accept", NOBODY, prepare=invitation_to_stranger),
    # share links
    Rule("share links", "POST", DOCS + "/share-links", "admin", status=201, body=body({"mode": "edit"})),
    Rule("share links", "GET", DOCS + "/share-links", "viewer"),
    Rule("share links", "DELETE", DOCS + "/share-links/{link}", "admin", prepare=fresh_link),
    Rule(
        "share links",
        "POST",
        "/api/v1/share/validate",
        PUBLIC,
        body=lambda world, r, i: {"token": world.link_token},
    ),
    # history snapshots
    Rule("snapshots", "GET", SNAPS, "viewer"),
    Rule(
        "snapshots",
        "POST",
        SNAPS,
        "editor",
        status=201,
        body=lambda w, role, i: {"yjs_state_base64": yjs_update(role), "note": role},
    ),
    Rule("snapshots", "GET", SNAPS + "/{snapshot}", "viewer"),
    Rule("snapshots", "GET", SNAPS + "/{snapshot}/download", "viewer"),
    Rule("snapshots", "POST", SNAPS + "/{snapshot}/restore", "editor", body=body({"action": "new_document"})),
    Rule(
        "snapshots",
        "POST",
        SNAPS + "/{snapshot}/restore",
        "owner",
        body=lambda w, r, ids: {"action": "overwrite", "backup_snapshot_id": ids["backup"]},
        prepare=fresh_backup,
    ),
    # audit logs
    Rule("audit", "GET", DOCS + "/audit-logs", "admin"),
]


def expected_status(rule: Rule, role: str) -> int:
    if rule.minimum == PUBLIC:
        return rule.status
    if role == "anonymous":
        return 401
    if rule.minimum == USER:
        return rule.status
    if rule.minimum == NOBODY:
        return rule.denied
    held = HELD[rule.scope][role]
    return rule.status if held is not None and LEVEL[held] >= LEVEL[rule.minimum] else rule.denied


def _rule_id(rule: Rule) -> str:
    return f"{rule.family}: {rule.method} {rule.path} [{rule.minimum}]"


@pytest.fixture
async def world(client: httpx.AsyncClient, outbox: LogEmailSender) -> World:
    return await make_world(client, outbox)


@pytest.mark.parametrize("rule", RULES, ids=[_rule_id(rule) for rule in RULES])
async def test_every_role_gets_exactly_the_expected_status(world: World, rule: Rule) -> None:
    """Each role, weakest first, calls the endpoint; the status must be the table's, nothing else."""
    wrong: list[str] = []
    for role in ROLES:
        ids = dict(world.ids)
        if rule.prepare is not None:
            ids.update(await rule.prepare(world, role))
        account = world.account(role)
        response = await world.client.request(
            rule.method,
            rule.path.format(**ids),
            params={key: value.format(**ids) for key, value in rule.params.items()},
            json=rule.body(world, role, ids) if rule.body else None,
            headers=account.headers if account else {},
        )
        expected = expected_status(rule, role)
        if response.status_code != expected:
            wrong.append(f"{role}: expected {expected}, got {response.status_code} {response.text[:200]}")
        elif expected >= 400 and not isinstance(response.json().get("detail"), str):
            wrong.append(f"{role}: a denial without a string detail: {response.text[:200]}")
    assert not wrong, f"{rule.name}\n" + "\n".join(wrong)


def test_the_table_keeps_viewers_and_commenters_read_only() -> None:
    """Decision 12 read off the table itself: no write is open to a role below editor."""
    writes_open_to_readers = [
        rule.name
        for rule in RULES
        if rule.method != "GET" and rule.minimum in LEVEL and LEVEL[rule.minimum] < LEVEL["editor"]
    ]
    assert not writes_open_to_readers


def test_the_table_covers_every_route_of_the_api(app: FastAPI) -> None:
    """A new route without a row in RULES (or in the deliberately separate batch test) fails here."""
    covered = {(rule.method, _template(rule.path)) for rule in RULES} | {("POST", "/api/v1/documents/batch")}
    unauthenticated = {("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/refresh")}
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
        if route.path.startswith("/api/v1") and method != "HEAD"
    }
    missing = sorted(routes - covered - unauthenticated)
    assert not missing, f"routes without an authorization rule: {missing}"


def _template(path: str) -> str:
    """The table's placeholders mapped to the routes' parameter names."""
    names = {
        "{workspace}": "{workspace_id}",
        "{document}": "{document_id}",
        "{folder}": "{folder_id}",
        "{snapshot}": "{snapshot_id}",
        "{link}": "{link_id}",
        "{member_user}": "{user_id}",
        "{member_share}": "{member_id}",
    }
    for placeholder, name in names.items():
        path = path.replace(placeholder, name)
    return path


# --- batch: one 200 for everyone, with the authorization decided per operation -------------------------

BATCH_RULES = [
    # (operation, minimum role, scope)
    ("create", "editor", W),
    ("update", "editor", D),
    ("delete", "admin", D),  # the owner's document: editors delete only their own
]


@pytest.mark.parametrize(("operation", "minimum", "scope"), BATCH_RULES)
async def test_batch_operations_are_authorized_one_by_one(
    world: World, operation: str, minimum: str, scope: str
) -> None:
    rule = Rule("batch", "POST", "/api/v1/documents/batch", minimum, scope)
    wrong: list[str] = []
    for role in ROLES:
        target = await fresh_document(world, role)
        item: dict[str, Any] = {"operation": operation, "client_id": f"{role}-op"}
        if operation == "create":
            item["data"] = {"title": f"Batch by {role}"}
        else:
            item["document_id"] = target["document"]
            item["data"] = {"title": "Batch edit"}
        account = world.account(role)
        response = await world.client.post(
            "/api/v1/documents/batch",
            json={"workspace_id": world.team.workspace_id, "operations": [item]},
            headers=account.headers if account else {},
        )
        allowed = expected_status(rule, role) == 200
        if role == "anonymous":
            outcome = "ok" if response.status_code == 401 else f"expected 401, got {response.status_code}"
        elif response.status_code != 200:
            outcome = f"expected 200, got {response.status_code} {response.text[:200]}"
        else:
            status = response.json()["results"][0]["status"]
            outcome = "ok" if (status == "success") == allowed else f"operation {status}, allowed={allowed}"
        if outcome != "ok":
            wrong.append(f"{role}: {outcome}")
        if operation != "create" and role != "anonymous":
            detail = await world.client.get(api(target["document"]), headers=world.owner.headers)
            changed = (
                detail.status_code == 404 if operation == "delete" else detail.json()["title"] == "Batch edit"
            )
            if changed != allowed:
                wrong.append(f"{role}: document changed={changed}, allowed={allowed}")
    assert not wrong, f"batch {operation}\n" + "\n".join(wrong)


# --- cross-tenant: full rights in workspace B never reach workspace A --------------------------------


@dataclass
class Tenant:
    account: Account
    workspace: str
    document: str
    folder: str
    snapshot: str
    backup: str
    link: str


async def make_tenant(client: httpx.AsyncClient, world: World) -> Tenant:
    """Tenant B: owner of a workspace with a document, folder, snapshots and a share link."""
    account = await register(client, "tenant_b")
    workspace = await create_workspace(client, account)
    document = await create_document(client, account, workspace["id"], yjs_state_b64=yjs_update("b"))
    b = account.headers
    folder = ok(
        await client.post(
            "/api/v1/folders", params={"workspace_id": workspace["id"]}, json={"name": "B"}, headers=b
        ),
        201,
    )
    snapshots = api(document["id"], "/snapshots")
    snapshot = ok(await client.post(snapshots, json={"yjs_state_base64": yjs_update("b1")}, headers=b), 201)
    backup = ok(
        await client.post(
            snapshots, json={"yjs_state_base64": yjs_update("b2"), "type": "restore-backup"}, headers=b
        ),
        201,
    )
    link = ok(await client.post(api(document["id"], "/share-links"), json={}, headers=b), 201)
    return Tenant(
        account,
        workspace["id"],
        document["id"],
        folder["id"],
        snapshot["snapshot_id"],
        backup["snapshot_id"],
        link["id"],
    )


async def tenant_a_state(world: World) -> dict[str, Any]:
    """Everything of tenant A that a cross-tenant write could touch, as A's owner sees it."""
    client, headers, ids = world.client, world.owner.headers, world.ids

    async def get(path: str, **params: str) -> Any:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text}"
        return response.json()

    document = await get(api(ids["document"]))
    members = await get(api(ids["document"], "/members"))
    return {
        "workspace": await get(f"/api/v1/workspaces/{ids['workspace']}"),
        "workspace members": await get(f"/api/v1/workspaces/{ids['workspace']}/members"),
        "documents": await get(f"/api/v1/documents/workspace/{ids['workspace']}"),
        "document": {
            key: document[key] for key in ("title", "content", "version", "yjs_state_b64", "folder_id")
        },
        "document members": members["members"],
        "folders": await get(f"/api/v1/folders/workspace/{ids['workspace']}"),
        "snapshots": await get(api(ids["document"], "/snapshots")),
        "share links": await get(api(ids["document"], "/share-links")),
    }


@pytest.fixture
async def tenants(client: httpx.AsyncClient, world: World) -> tuple[World, Tenant]:
    return world, await make_tenant(client, world)


def _ids_in(body: Any) -> set[str]:
    """Every string anywhere in a JSON body (ids included), to check that no id of A leaks."""
    if isinstance(body, str):
        return {body}
    values = body.values() if isinstance(body, dict) else body if isinstance(body, list) else []
    found: set[str] = set()
    for value in values:
        found |= _ids_in(value)
    return found


async def test_tenant_b_lists_show_nothing_of_tenant_a(tenants: tuple[World, Tenant]) -> None:
    world, b = tenants
    a_ids = set(world.ids.values()) - {world.ids["host_document"]}
    reads = [
        ("/api/v1/workspaces", {}),
        ("/api/v1/users/me/workspaces", {}),
        ("/api/v1/documents/shared-with-me", {}),
        (f"/api/v1/documents/workspace/{b.workspace}", {"folder_id": world.ids["folder"]}),
        (f"/api/v1/folders/workspace/{b.workspace}", {"parent_id": world.ids["folder"]}),
        ("/api/v1/folders/tree", {"workspace_id": b.workspace}),
        (api(b.document, "/snapshots"), {}),
        (api(b.document, "/members"), {}),
        (api(b.document, "/share-links"), {}),
        (api(b.document, "/audit-logs"), {}),
    ]
    for path, params in reads:
        response = await world.client.get(path, params=params, headers=b.account.headers)
        assert response.status_code == 200, f"{path}: {response.text}"
        leaked = _ids_in(response.json()) & a_ids
        assert not leaked, f"{path} shows tenant A's ids {leaked}"


async def test_tenant_b_ids_never_read_or_write_tenant_a(tenants: tuple[World, Tenant]) -> None:
    """B's credentials with A's ids in B's URLs and bodies (and B's ids in A's URLs): every call is refused,
    and A's data is byte-for-byte what it was."""
    world, b = tenants
    a = world.ids
    a_commenter = world.team["commenter"]
    a_share = await share_row_id(world.client, world.owner, a["document"], a_commenter)
    a_backup = (await fresh_backup(world, "owner"))["backup"]
    a_invitation = (await invitation_to_stranger(world, "owner"))["token"]
    before = await tenant_a_state(world)
    attempts: list[tuple[str, str, dict[str, str], Any, set[int]]] = [
        # (method, path, query, body, accepted statuses): A's ids inside B's URLs and bodies
        ("GET", api(b.document, f"/snapshots/{a['snapshot']}"), {}, None, {404}),
        ("GET", api(b.document, f"/snapshots/{a['snapshot']}/download"), {}, None, {404}),
        (
            "POST",
            api(b.document, f"/snapshots/{a['snapshot']}/restore"),
            {},
            {"action": "new_document"},
            {404},
        ),
        (
            "POST",
            api(b.document, f"/snapshots/{b.snapshot}/restore"),
            {},
            {"action": "overwrite", "backup_snapshot_id": a_backup, "force": True},
            {400},
        ),
        ("DELETE", api(b.document, f"/share-links/{a['link']}"), {}, None, {404}),
        ("DELETE", api(b.document, f"/members/{a_share}"), {}, None, {403, 404}),
        ("DELETE", api(b.document, f"/members/{a_commenter.id}"), {}, None, {403, 404}),
        ("POST", api(b.document, f"/members/{a_share}/role"), {}, {"role": "viewer"}, {403, 404}),
        ("DELETE", f"/api/v1/workspaces/{b.workspace}/members/{world.team['editor'].id}", {}, None, {404}),
        (
            "PATCH",
            f"/api/v1/workspaces/{b.workspace}/members/{world.team['editor'].id}/role",
            {},
            {"role": "viewer"},
            {404},
        ),
        ("GET", f"/api/v1/folders/{a['folder']}", {"workspace_id": b.workspace}, None, {404}),
        ("PATCH", f"/api/v1/folders/{a['folder']}", {"workspace_id": b.workspace}, {"name": "X"}, {404}),
        ("POST", f"/api/v1/folders/{a['folder']}/move", {"workspace_id": b.workspace}, {}, {404}),
        ("DELETE", f"/api/v1/folders/{a['folder']}", {"workspace_id": b.workspace}, None, {404}),
        ("PATCH", f"/api/v1/folders/{b.folder}", {}, {"parent_id": a["folder"]}, {400, 404}),
        ("POST", f"/api/v1/folders/{b.folder}/move", {}, {"parent_id": a["folder"]}, {400, 404}),
        (
            "POST",
            "/api/v1/folders",
            {"workspace_id": b.workspace},
            {"name": "X", "parent_id": a["folder"]},
            {400, 404},
        ),
        ("PATCH", api(b.document), {}, {"folder_id": a["folder"]}, {400, 404}),
        (
            "POST",
            "/api/v1/documents",
            {"workspace_id": b.workspace},
            {"title": "X", "folder_id": a["folder"]},
            {400, 404},
        ),
        ("GET", f"/api/v1/documents/workspace/{a['workspace']}", {"folder_id": b.folder}, None, {403}),
        # client-supplied ids of A's resources in B's creates (Decision 13: refused, never overwritten)
        ("POST", "/api/v1/workspaces", {}, {"id": a["workspace"], "name": "Hijacked"}, {403}),
        (
            "POST",
            "/api/v1/documents",
            {"workspace_id": b.workspace},
            {"id": a["document"], "title": "Hijacked"},
            {403},
        ),
        (
            "POST",
            "/api/v1/folders",
            {"workspace_id": b.workspace},
            {"id": a["folder"], "name": "Hijacked"},
            {403},
        ),
        # B's ids inside A's URLs
        ("GET", api(a["document"], f"/snapshots/{b.snapshot}"), {}, None, {403}),
        ("DELETE", api(a["document"], f"/share-links/{b.link}"), {}, None, {403}),
        ("GET", f"/api/v1/folders/{b.folder}", {"workspace_id": a["workspace"]}, None, {404}),
        ("POST", "/api/v1/documents", {"workspace_id": a["workspace"]}, {"title": "Planted"}, {403}),
        ("POST", "/api/v1/folders", {"workspace_id": a["workspace"]}, {"name": "Planted"}, {403}),
        (
            "POST",
            f"/api/v1/workspaces/{a['workspace']}/members",
            {},
            {"user_id": b.account.id, "role": "admin"},
            {403},
        ),
        ("POST", f"/api/v1/invitations/{a_invitation}/accept", {}, None, {403}),
    ]
    wrong = []
    for method, path, params, payload, accepted in attempts:
        response = await world.client.request(
            method, path, params=params, json=payload, headers=b.account.headers
        )
        if response.status_code not in accepted:
            wrong.append(f"{method} {path} {params} {payload}: {response.status_code} {response.text[:200]}")
    # Batch: B's workspace, A's document ids (and a create that names A's document).
    batch = await world.client.post(
        "/api/v1/documents/batch",
        json={
            "workspace_id": b.workspace,
            "operations": [
                {
                    "operation": "update",
                    "client_id": "u",
                    "document_id": a["document"],
                    "data": {"title": "X"},
                },
                {"operation": "delete", "client_id": "d", "document_id": a["document"]},
                {"operation": "create", "client_id": "c", "data": {"id": a["document"], "title": "X"}},
            ],
        },
        headers=b.account.headers,
    )
    assert batch.status_code == 200, batch.text
    assert [result["status"] for result in batch.json()["results"]] == ["error"] * 3, batch.text
    assert not wrong, "\n".join(wrong)
    assert await tenant_a_state(world) == before


# --- public documents and who may publish them ---------------------------------------------------------


async def test_a_public_document_gives_outsiders_read_access_only(world: World) -> None:
    """is_public makes every authenticated user a viewer of the document (Decision 12), nothing more."""
    client, owner, document = world.client, world.owner, world.ids["document"]
    outsider = world.team["outsider"].headers
    assert (await client.get(api(document), headers=outsider)).status_code == 403
    published = await client.patch(api(document), json={"is_public": True}, headers=owner.headers)
    assert published.status_code == 200, published.text
    reads = [
        api(document),
        api(document, "/snapshot"),
        api(document, "/snapshots"),
    ]
    for path in reads:
        assert (await client.get(path, headers=outsider)).status_code == 200, path
    # Who has access (emails) and the links are for real collaborators, not for everyone.
    for path in (api(document, "/members"), api(document, "/share-links")):
        assert (await client.get(path, headers=outsider)).status_code == 403, path
    writes = [
        ("PATCH", api(document), {"title": "Defaced"}),
        ("POST", api(document, "/star"), None),
        ("POST", api(document, "/snapshots"), {"yjs_state_base64": yjs_update("x")}),
        ("POST", api(document, "/invite"), {"emails": ["friend@example.com"], "role": "viewer"}),
        ("POST", api(document, "/share-links"), {"mode": "view"}),
        ("DELETE", api(document), None),
    ]
    for method, path, payload in writes:
        response = await client.request(method, path, json=payload, headers=outsider)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
    assert (await client.get(api(document), headers=owner.headers)).json()["title"] != "Defaced"
    workspace = await client.get(f"/api/v1/workspaces/{world.ids['workspace']}", headers=outsider)
    assert workspace.status_code == 404  # a public document does not open its workspace


async def test_an_editor_can_not_publish_a_document_to_everyone(world: World) -> None:
    """Sharing needs admin (invitations, share links: RULES above); is_public shares the document with every
    user, so an editor setting it would bypass that rule. Editors still edit everything else."""
    client, editor, document = world.client, world.team["editor"], world.ids["document"]
    edited = await client.patch(api(document), json={"title": "Edited by editor"}, headers=editor.headers)
    assert edited.status_code == 200, edited.text
    published = await client.patch(api(document), json={"is_public": True}, headers=editor.headers)
    assert published.status_code == 403, published.text
    outsider = await client.get(api(document), headers=world.team["outsider"].headers)
    assert outsider.status_code == 403


async def test_lists_show_each_role_exactly_what_it_may_read(world: World) -> None:
    """The USER-level list endpoints answer everyone; what they contain follows the roles."""
    wrong: list[str] = []
    for role in ROLES[1:]:
        headers = world.account(role).headers  # type: ignore[union-attr]  # authenticated roles only
        member = HELD["workspace"][role] is not None
        workspaces = (await world.client.get("/api/v1/workspaces", headers=headers)).json()["items"]
        mine = (await world.client.get("/api/v1/users/me/workspaces", headers=headers)).json()["data"]
        shared = (await world.client.get("/api/v1/documents/shared-with-me", headers=headers)).json()["items"]
        seen = {
            "GET /workspaces": world.ids["workspace"] in {item["id"] for item in workspaces},
            "GET /users/me/workspaces": world.ids["workspace"] in {item["id"] for item in mine},
            # shared-with-me lists shares outside the workspaces one belongs to: the commenter's only
            "GET /documents/shared-with-me": world.ids["document"] in {item["id"] for item in shared},
        }
        expected = {"GET /workspaces": member, "GET /users/me/workspaces": member}
        expected["GET /documents/shared-with-me"] = role == "commenter"
        wrong += [f"{role} {name}: listed={seen[name]}" for name in seen if seen[name] != expected[name]]
        if member:
            role_field = next(item["role"] for item in mine if item["id"] == world.ids["workspace"])
            if role_field != role:
                wrong.append(f"{role}: /users/me/workspaces says role {role_field}")
    assert not wrong, "\n".join(wrong)
