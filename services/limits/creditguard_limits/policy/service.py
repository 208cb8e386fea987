"""Loads the policy file once and re-reads it when it changes on disk (checked at most every few
seconds), so a credit manager's edit takes effect without a restart or a code change."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from creditguard_limits.policy.rules import CreditPolicy

logger = logging.getLogger(__name__)
DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[1] / "credit_policy.json"


def parse_policy(text: str) -> CreditPolicy:
    return CreditPolicy.model_validate(json.loads(text))


class PolicyStore:
    def __init__(self, path: str | None, *, recheck_seconds: float = 5.0) -> None:
        self.path = Path(path) if path else DEFAULT_POLICY_FILE
        self.recheck_seconds = recheck_seconds
        self._mtime = self.path.stat().st_mtime
        self._policy, self.rules_version = self._read()
        self._checked_at = time.monotonic()

    def _read(self) -> tuple[CreditPolicy, str]:
        text = self.path.read_text()
        policy = parse_policy(text)
        # The file's own version plus a digest: an edit that forgets to bump the version still shows.
        return policy, f"{policy.version}+{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    @property
    def current(self) -> CreditPolicy:
        now = time.monotonic()
        if now - self._checked_at >= self.recheck_seconds:
            self._checked_at = now
            self._reload_if_changed()
        return self._policy

    def _reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
            if mtime == self._mtime:
                return
            self._policy, self.rules_version = self._read()
            self._mtime = mtime
            logger.info("credit policy reloaded: %s", self.rules_version)
        except (OSError, ValueError) as exc:
            # A half-written or invalid edit must not stop credit checks: keep the last good policy.
            logger.error("credit policy %s not reloaded, keeping %s: %s", self.path, self.rules_version, exc)
