"""Access control: who may change a knowledge base (rag/kb/access.py), checked inside every
changing operation of KnowledgeBase and Library — each refused one changes nothing."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.errors import ConfigError, PermissionDenied
from rag.kb import AccessPolicy, Actor, KnowledgeBase, Library, is_loopback
from rag.kb.access import parse_auth

ARTICLE = "松鼠镇图书馆完成扩建\n松鼠镇图书馆于2024年5月完成扩建，新馆面积达到3200平方米。\n"


@pytest.mark.parametrize("host, loop", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.com", False), ("", False),
])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_loopback_without_password_allows_the_local_user():
    policy = AccessPolicy(host="127.0.0.1")
    policy.check(Actor())
    assert policy.changes_enabled and policy.notice() == ""


def test_public_address_without_password_disables_changes_and_says_how():
    policy = AccessPolicy(host="0.0.0.0")
    assert not policy.changes_enabled
    with pytest.raises(PermissionDenied, match="RAG_ADMIN_PASSWORD") as err:
        policy.check(Actor(password="anything"))
    assert "0.0.0.0" in str(err.value) and "127.0.0.1" in str(err.value)
    assert "RAG_ADMIN_PASSWORD" in policy.notice()


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_password_is_required_wherever_the_app_listens(host):
    policy = AccessPolicy(admin_password="长密码-42", host=host)
    assert policy.needs_password and policy.changes_enabled
    for actor in (None, Actor(), Actor(password="wrong"), Actor(password="长密码-4"), Actor(username="admin")):
        with pytest.raises(PermissionDenied, match="管理员密码"):
            policy.check(actor)
    policy.check(Actor(password="长密码-42"))


def test_gradio_login_user_is_the_administrator():
    policy = AccessPolicy(auth=("admin", "pw"), host="0.0.0.0")
    assert policy.changes_enabled and not policy.needs_password
    policy.check(Actor(username="admin"))
    for actor in (Actor(username="guest"), Actor(), Actor(password="pw")):
        with pytest.raises(PermissionDenied, match="RAG_AUTH"):
            policy.check(actor)


def test_policy_from_settings_and_the_local_policy():
    s = Settings.from_env({"RAG_ADMIN_PASSWORD": "pw", "RAG_AUTH": "boss:secret", "RAG_HOME": "/tmp/x"})
    policy = AccessPolicy.from_settings(s, host="0.0.0.0")
    policy.check(Actor(password="pw"))
    policy.check(Actor(username="boss"))
    assert "pw" not in repr(policy) and "secret" not in repr(policy) and "pw" not in repr(s)
    AccessPolicy.local().check(None)


@pytest.mark.parametrize("bad", ["nopassword", ":pw", "user:", " :x"])
def test_bad_rag_auth_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="RAG_AUTH"):
        parse_auth(bad)


def test_actor_from_a_gradio_request():
    class Request:  # the attribute gradio.Request carries when auth is on
        username = "admin"

    assert Actor.from_request(Request(), "pw") == Actor(password="pw", username="admin")
    assert Actor.from_request(None, "") == Actor()


# -- every changing operation checks, and a refused one changes nothing ------------------

@pytest.fixture
def guarded(tmp_path):
    """A knowledge base and a library on real directories, behind an administrator password."""
    home = tmp_path / "home"
    settings = Settings.from_env({"RAG_HOME": str(home), "RAG_ADMIN_PASSWORD": "pw"})
    lib = Library(settings, policy=AccessPolicy.from_settings(settings, host="0.0.0.0"))
    kb = lib.get()  # the default knowledge base, seeded from the checkout
    return lib, kb


def snapshot(root):
    return sorted((p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*"))


INTRUDERS = [None, Actor(), Actor(password="guess"), Actor(username="admin")]


@pytest.mark.parametrize("actor", INTRUDERS)
def test_every_change_is_refused_to_a_non_administrator(guarded, actor, tmp_path):
    lib, kb = guarded
    before = snapshot(lib.home)
    source = kb.files()[0]
    attempts = [
        lambda: kb.upload([("a.txt", ARTICLE.encode())], actor),
        lambda: kb.request_delete(source, actor),
        lambda: kb.delete(source, actor, confirm="forged"),
        lambda: kb.rebuild(actor),
        lambda: kb.rebuild(actor, full=True),
        lambda: lib.create("新闻", actor),
        lambda: lib.request_delete("新闻", actor),
        lambda: lib.delete("新闻", actor, confirm="forged"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="管理员密码"):
            attempt()
    assert snapshot(lib.home) == before
    assert kb.build_status().builds == 0


def test_changing_methods_cannot_be_called_without_saying_who_asks(guarded):
    lib, kb = guarded
    with pytest.raises(TypeError):
        kb.upload([("a.txt", ARTICLE.encode())])  # noqa - the actor is a required argument
    with pytest.raises(TypeError):
        kb.rebuild()
    with pytest.raises(TypeError):
        lib.create("x")


def test_the_administrator_may_change(guarded):
    lib, kb = guarded
    admin = Actor(password="pw")
    created = lib.create("新闻", admin)
    assert "新闻" in lib.names() and created.files() == []
    conf = lib.request_delete("新闻", admin)
    lib.delete("新闻", admin, confirm=conf.token)
    assert "新闻" not in lib.names()


def test_reading_stays_open(guarded):
    lib, kb = guarded
    assert kb.files() and lib.names() == ["default"]
    assert kb.build_status().state == "idle"
    assert not kb.can_change(Actor()) and kb.can_change(Actor(password="pw"))
    assert "管理员密码" in kb.notice()


def test_a_knowledge_base_in_the_checkout_is_read_only_in_the_app(tmp_path):
    from rag.config import PROJECT_ROOT

    settings = Settings.from_env({"RAG_CORPUS_DIR": str(PROJECT_ROOT / "corpus"),
                                  "RAG_INDEX_DIR": str(PROJECT_ROOT / "index")})
    kb = KnowledgeBase(settings, policy=AccessPolicy.local())
    before = snapshot(PROJECT_ROOT / "corpus"), snapshot(PROJECT_ROOT / "index")
    from rag.errors import KnowledgeBaseError

    for attempt in (lambda: kb.upload([("a.txt", ARTICLE.encode())], None),
                    lambda: kb.request_delete(kb.files()[0], None),
                    lambda: kb.rebuild(None)):
        with pytest.raises(KnowledgeBaseError, match="代码仓库"):
            attempt()
    assert "代码仓库" in kb.notice() and not kb.can_change(None)
    assert (snapshot(PROJECT_ROOT / "corpus"), snapshot(PROJECT_ROOT / "index")) == before
