"""API keys are random 256-bit tokens; only their SHA-256 is stored (a slow hash adds nothing
for keys with that much entropy, and verification stays on the fast path of every request)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Role(StrEnum):
    ERP = "erp"
    CREDIT_MANAGER = "credit_manager"
    SALES = "sales"
    ADMIN = "admin"
    # The web console: it passes no check by itself, only on behalf of the person it names in
    # the acting headers (see dependencies.acting_principal), whose role is then checked.
    CONSOLE = "console"


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: Role
    # Set when the console calls on behalf of a person: their name, recorded as the actor.
    acting_for: str | None = None

    @property
    def actor(self) -> str:
        """Who a change is recorded under: the person, else the key's id."""
        return self.acting_for or self.key_id

    @property
    def actor_name(self) -> str:
        """The same for records that show a readable name: the person, else the key's name."""
        return self.acting_for or self.name


def generate_api_key(role: Role) -> str:
    return f"cg_{role.value}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyStore:
    """Hashed keys from a JSON file (``[{"id", "name", "role", "sha256"}]``), re-read when the
    file changes so keys added with the CLI work without a restart."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._mtime: float | None = None
        self._by_hash: dict[str, Principal] = {}

    def _reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._by_hash, self._mtime = {}, None
            return
        if mtime == self._mtime:
            return
        entries = json.loads(self.path.read_text() or "[]")
        self._by_hash = {e["sha256"]: Principal(key_id=e["id"], name=e.get("name", e["id"]), role=Role(e["role"])) for e in entries if not e.get("revoked")}
        self._mtime = mtime

    def authenticate(self, key: str) -> Principal | None:
        self._reload_if_changed()
        # Looking up the digest reveals nothing about the key, so no constant-time compare is needed.
        return self._by_hash.get(hash_api_key(key))


def add_key(path: str | os.PathLike[str], *, role: Role, name: str) -> tuple[str, dict[str, Any]]:
    """Append a new key to the file and return the plaintext (shown once) with its entry."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    entries = json.loads(file.read_text() or "[]") if file.exists() else []
    key = generate_api_key(role)
    entry = {"id": f"key_{secrets.token_hex(6)}", "name": name, "role": role.value, "sha256": hash_api_key(key)}
    entries.append(entry)
    _write_private(file, json.dumps(entries, indent=2))
    return key, entry


def revoke_key(path: str | os.PathLike[str], key_id: str) -> bool:
    file = Path(path)
    entries = json.loads(file.read_text() or "[]") if file.exists() else []
    found = False
    for entry in entries:
        if entry["id"] == key_id:
            entry["revoked"] = True
            found = True
    _write_private(file, json.dumps(entries, indent=2))
    return found


def _write_private(file: Path, text: str) -> None:
    """Replace ``file`` with ``text``, readable by its owner only from the moment it exists (a
    chmod after writing would leave a moment in which others could read it)."""
    temporary = file.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)
    temporary.replace(file)
