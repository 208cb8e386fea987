"""FastAPI dependency: ``Depends(require_roles(Role.ERP))``; admins pass every role check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from creditguard_shared.auth.keys import ApiKeyStore, Principal, Role
from creditguard_shared.errors import Forbidden, Unauthorized

# auto_error=False: a missing key must render as our 401 problem, not FastAPI's 403.
bearer_scheme = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles) | {Role.ADMIN}

    async def authenticated_principal(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise Unauthorized("An API key is required: send 'Authorization: Bearer <key>'.")
        store: ApiKeyStore = request.app.state.api_keys
        principal = store.authenticate(credentials.credentials)
        if principal is None:
            raise Unauthorized("The API key is not valid.")
        if principal.role not in allowed:
            raise Forbidden(
                f"Role '{principal.role.value}' may not do this; allowed: {', '.join(sorted(r.value for r in allowed))}."
            )
        return principal

    return authenticated_principal
