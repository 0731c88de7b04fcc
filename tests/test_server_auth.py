"""The bearer-token check of /v1 (rag.server.auth)."""

from __future__ import annotations

import pytest

from rag.server.auth import UNAUTHORIZED, BearerAuth


def test_no_key_lets_everyone_through():
    auth = BearerAuth(None)
    assert not auth.enabled and auth.allows(None) and auth.allows("Bearer anything")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer wrong", "Basic c2VjcmV0",
                                    "secret", "Bearer secret2", "Bearer secre", "Token secret"])
def test_only_the_exact_bearer_key_passes(header):
    auth = BearerAuth("secret")
    assert auth.enabled and not auth.allows(header)
    assert auth.allows("Bearer secret") and auth.allows("bearer secret")


def test_behind_a_login_without_a_key_everything_is_refused():
    auth = BearerAuth(None, required=True)
    assert auth.enabled and not auth.allows(None) and not auth.allows("Bearer ")
    assert BearerAuth("k", required=True).allows("Bearer k")


def test_the_message_reveals_nothing():
    assert "secret" not in UNAUTHORIZED and "Bearer <key>" in UNAUTHORIZED
