"""API-key authentication with roles."""

from creditguard_shared.auth.dependencies import require_roles
from creditguard_shared.auth.keys import ApiKeyStore, Principal, Role, generate_api_key, hash_api_key

__all__ = ["ApiKeyStore", "Principal", "Role", "generate_api_key", "hash_api_key", "require_roles"]
