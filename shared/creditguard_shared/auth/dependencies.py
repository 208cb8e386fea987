"""FastAPI dependency: ``Depends(require_roles(Role.ERP))``; admins pass every role check.

A console key acts only on behalf of a person: it sends the person's name and role in
``X-Acting-User`` (percent-encoded UTF-8, as header values are Latin-1) and ``X-Acting-Role``;
that role is checked instead of the key's, and the name is what the service records as the actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import unquote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from creditguard_shared.auth.keys import ApiKeyStore, Principal, Role
from creditguard_shared.errors import Forbidden, Unauthorized

# auto_error=False: a missing key must render as our 401 problem, not FastAPI's 403.
bearer_scheme = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")

ACTING_USER_HEADER = "X-Acting-User"
ACTING_ROLE_HEADER = "X-Acting-Role"
# A person who may look but not change anything: passes the reads a credit manager or sales may do.
READ_ONLY = "read_only"
PERSON_ROLES = frozenset({Role.CREDIT_MANAGER.value, Role.SALES.value, Role.ADMIN.value, READ_ONLY})
READ_METHODS = frozenset({"GET", "HEAD"})
# The services' actor columns hold 100 characters.
MAX_ACTOR_LENGTH = 100


def acting_principal(request: Request, console: Principal, allowed: frozenset[Role], *, changes_nothing: bool = False) -> Principal:
    name = unquote(request.headers.get(ACTING_USER_HEADER, "")).strip()
    role = request.headers.get(ACTING_ROLE_HEADER, "")
    if not name or role not in PERSON_ROLES:
        raise Forbidden(f"A console key acts only for a person: send {ACTING_USER_HEADER} and {ACTING_ROLE_HEADER} ({', '.join(sorted(PERSON_ROLES))}).")
    if len(name) > MAX_ACTOR_LENGTH:
        raise Forbidden(f"{ACTING_USER_HEADER} is longer than {MAX_ACTOR_LENGTH} characters.")
    if role == READ_ONLY:
        permitted = (request.method in READ_METHODS or changes_nothing) and bool(allowed & {Role.CREDIT_MANAGER, Role.SALES})
    else:
        permitted = Role(role) in allowed
    if not permitted:
        raise Forbidden(f"Role '{role}' may not do this; allowed: {', '.join(sorted(r.value for r in allowed))}.")
    return replace(console, acting_for=name)


def require_roles(*roles: Role, changes_nothing: bool = False) -> Callable[..., Awaitable[Principal]]:
    """``changes_nothing``: a POST that only reads (a search with a body), open to read-only people."""
    allowed = frozenset(roles) | {Role.ADMIN}

    async def authenticated_principal(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)) -> Principal:
        if credentials is None or not credentials.credentials:
            raise Unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
        store: ApiKeyStore = request.app.state.api_keys
        principal = store.authenticate(credentials.credentials)
        if principal is None:
            raise Unauthorized("The API key is not valid.")
        if principal.role is Role.CONSOLE:
            return acting_principal(request, principal, allowed, changes_nothing=changes_nothing)
        if principal.role not in allowed:
            raise Forbidden(f"Role '{principal.role.value}' may not do this; allowed: {', '.join(sorted(r.value for r in allowed))}.")
        return principal

    return authenticated_principal
