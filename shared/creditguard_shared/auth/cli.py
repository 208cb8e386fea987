"""``creditguard-keys``: create, list and revoke API keys (the file holds hashes only)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from creditguard_shared.auth.keys import Role, add_key, hash_api_key, revoke_key


def _dev_keys(file: str, plaintext_out: str) -> None:
    """One key per role for local development; reused if they still verify."""
    out = Path(plaintext_out)
    if out.exists():
        existing = json.loads(out.read_text())
        entries = json.loads(Path(file).read_text()) if Path(file).exists() else []
        hashes = {e["sha256"] for e in entries if not e.get("revoked")}
        if set(existing) == {r.value for r in Role} and all(hash_api_key(k) in hashes for k in existing.values()):
            print(json.dumps(existing, indent=2))
            return
    keys = {role.value: add_key(file, role=role, name=f"dev-{role.value}")[0] for role in Role}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Plain keys: readable by their owner only, from the moment the file exists.
    temporary = out.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(json.dumps(keys, indent=2))
    temporary.replace(out)
    print(json.dumps(keys, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="creditguard-keys", description=__doc__)
    parser.add_argument("--file", default="var/api-keys.json", help="hashed key file the services read")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    sub.add_parser("list", help="list keys (ids, names, roles; never the keys)")
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    dev = sub.add_parser("dev", help="ensure one development key per role and write them in plaintext")
    dev.add_argument("--plaintext-out", default="var/dev-api-keys.json")
    args = parser.parse_args(argv)

    if args.command == "create":
        key, entry = add_key(args.file, role=Role(args.role), name=args.name)
        print(json.dumps({"id": entry["id"], "role": entry["role"], "key": key}))
    elif args.command == "list":
        entries = json.loads(Path(args.file).read_text()) if Path(args.file).exists() else []
        for e in entries:
            print(f"{e['id']}\t{e['role']}\t{e.get('name', '')}\t{'revoked' if e.get('revoked') else 'active'}")
    elif args.command == "revoke":
        if not revoke_key(args.file, args.key_id):
            print(f"no key {args.key_id}", file=sys.stderr)
            return 1
    elif args.command == "dev":
        _dev_keys(args.file, args.plaintext_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
