"""Bearer-token check for the programs' API (``RAG_API_KEY``).

With no key configured every request is let through (the app listens on 127.0.0.1 by
default) unless ``required`` (the page has a login, RAG_AUTH): then every request is
refused until a key is set. With a key, a request without ``Authorization: Bearer <key>`` or with another
key gets 401 and the same short message either way: nothing about the key is revealed.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse

from .models import error_body

UNAUTHORIZED = "Invalid or missing API key. Send it as 'Authorization: Bearer <key>'."


class BearerAuth:
    def __init__(self, api_key: str | None, required: bool = False) -> None:
        self._key = (api_key or "").encode("utf-8")
        self.required = required

    @property
    def enabled(self) -> bool:
        return bool(self._key) or self.required

    def allows(self, authorization: str | None) -> bool:
        if not self._key:
            return not self.required
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        # Constant-time comparison: the time taken says nothing about the key.
        return hmac.compare_digest(token.strip().encode("utf-8"), self._key)

    def check(self, request: Request) -> JSONResponse | None:
        """None when allowed; else the 401 response to return."""
        if self.allows(request.headers.get("authorization")):
            return None
        return JSONResponse(error_body(UNAUTHORIZED, "invalid_request_error", "invalid_api_key"),
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
