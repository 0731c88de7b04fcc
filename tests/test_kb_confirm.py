"""Two-step confirmation tokens (rag/kb/confirm.py): single use, bound to action and target, expiring."""

from __future__ import annotations

from rag.kb.confirm import MAX_PENDING, Confirmation, Confirmations


def test_a_token_confirms_once_exactly_what_it_was_issued_for():
    c = Confirmations()
    conf = c.issue("delete-file", "a.txt", "确定删除 a.txt？")
    assert conf.message == "确定删除 a.txt？" and len(conf.token) >= 20
    assert not c.redeem(conf.token, "delete-file", "b.txt")  # other target: refused, and the token is spent
    assert not c.redeem(conf.token, "delete-file", "a.txt")
    conf = c.issue("delete-file", "a.txt", "")
    assert not c.redeem(conf.token, "delete-kb", "a.txt")  # other action
    conf = c.issue("delete-file", "a.txt", "")
    assert c.redeem(conf.token, "delete-file", "a.txt")
    assert not c.redeem(conf.token, "delete-file", "a.txt")  # single use


def test_forged_empty_and_expired_tokens_are_refused():
    c = Confirmations()
    assert not c.redeem(None, "delete-file", "a.txt")
    assert not c.redeem("", "delete-file", "a.txt")
    assert not c.redeem("made-up", "delete-file", "a.txt")
    expired = Confirmations(ttl=-1.0)  # issued already past its lifetime
    conf = expired.issue("delete-file", "a.txt", "")
    assert not expired.redeem(conf.token, "delete-file", "a.txt")


def test_pending_tokens_stay_bounded():
    c = Confirmations()
    first = c.issue("delete-file", "0", "")
    for i in range(MAX_PENDING + 10):
        c.issue("delete-file", str(i), "")
    assert len(c._pending) <= MAX_PENDING
    assert not c.redeem(first.token, "delete-file", "0")  # the oldest was dropped


def test_confirmation_serialises_itself():
    conf = Confirmations().issue("delete-kb", "新闻", "确定？")
    assert Confirmation.from_dict(conf.to_dict()) == conf
