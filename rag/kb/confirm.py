"""Two-step confirmation on the server: the first call returns a short-lived token, the
second call must bring it back. Tokens are single-use and bound to one action on one target,
so a replayed or forged request cannot delete anything."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import asdict, dataclass

CONFIRM_TTL_SECONDS = 120.0  # long enough to read the question and click again
CONFIRM_TOKEN_BYTES = 16  # 128 random bits (secrets.token_urlsafe)
MAX_PENDING = 256  # oldest tokens are dropped beyond this: memory stays bounded


@dataclass(frozen=True)
class Confirmation:
    """What the first step returns: show ``message``, then call again with ``token``."""

    action: str  # "delete-file" | "delete-kb" | "upload-long"
    target: str  # the file or knowledge base it applies to
    token: str
    expires_at: float  # time.time() seconds
    message: str  # Chinese: what will happen, and that it must be confirmed

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Confirmation":
        return cls(**{k: d[k] for k in ("action", "target", "token", "expires_at", "message")})


class Confirmations:
    """Pending confirmations of one knowledge base (or the library), in memory."""

    def __init__(self, ttl: float = CONFIRM_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._pending: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, action: str, target: str, message: str) -> Confirmation:
        token = secrets.token_urlsafe(CONFIRM_TOKEN_BYTES)
        expires = time.time() + self.ttl
        with self._lock:
            self._drop_expired()
            while len(self._pending) >= MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
            self._pending[token] = (action, target, expires)
        return Confirmation(action, target, token, expires, message)

    def redeem(self, token: str | None, action: str, target: str) -> bool:
        """True once for a live token issued for (action, target); the token is spent either way."""
        if not token:
            return False
        with self._lock:
            self._drop_expired()
            entry = self._pending.pop(str(token), None)
        return entry is not None and entry[0] == action and entry[1] == target and entry[2] >= time.time()

    def _drop_expired(self) -> None:
        now = time.time()
        for t in [t for t, (_, _, exp) in self._pending.items() if exp < now]:
            del self._pending[t]
