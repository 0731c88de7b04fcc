"""The page as built (no browser): who may change, what is wrong with the index, which events are API."""

from __future__ import annotations

import pytest

from _app_server import copy_dir
from rag.config import Settings
from rag.kb import AccessPolicy, KnowledgeBase
from rag.ui import build_app
from rag.ui.kb_tab import chunks_of, health_html, notice_html
from rag.ui.workspace import Workspace

API_ENDPOINTS = {"chat", "chat_stream", "ask", "articles"}  # rag/ui/api.py: what programs may call


def make_kb(tmp_path, small_corpus_dir, small_index_dir, **policy) -> KnowledgeBase:
    settings = Settings(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                        index_dir=copy_dir(small_index_dir, tmp_path / "index"))
    return KnowledgeBase(settings, policy=AccessPolicy(**policy))


def components(demo) -> dict[str, dict]:
    return {c["props"]["elem_id"]: c["props"] for c in demo.config["components"] if c.get("props", {}).get("elem_id")}


CHANGING = ("upload-btn", "delete-btn", "update-btn", "rebuild-btn", "repair-btn", "upload", "delete-choice")


def test_listening_beyond_loopback_without_a_password_disables_changes_and_says_how(
        tmp_path, small_corpus_dir, small_index_dir):
    kb = make_kb(tmp_path, small_corpus_dir, small_index_dir, host="0.0.0.0")
    notice = notice_html(Workspace(kb), kb)
    assert "kb-danger" in notice and "已停用" in notice
    assert "RAG_ADMIN_PASSWORD" in notice and "127.0.0.1" in notice  # how to enable it
    props = components(build_app(kb))
    assert all(props[e]["interactive"] is False for e in CHANGING)
    assert props["admin-password"]["visible"] is False  # no password could help


def test_with_a_password_the_page_asks_for_it_and_keeps_the_buttons(tmp_path, small_corpus_dir, small_index_dir):
    kb = make_kb(tmp_path, small_corpus_dir, small_index_dir, host="0.0.0.0", admin_password="pw")
    assert "管理员密码" in notice_html(Workspace(kb), kb)
    props = components(build_app(kb))
    assert props["admin-password"]["visible"] is True and props["admin-password"]["type"] == "password"
    assert props["upload-btn"]["interactive"] is not False


def test_on_loopback_without_a_password_there_is_nothing_to_say(tmp_path, small_corpus_dir, small_index_dir):
    kb = make_kb(tmp_path, small_corpus_dir, small_index_dir)
    assert notice_html(Workspace(kb), kb) == ""
    assert health_html(kb) == ""


def test_only_the_documented_api_is_callable(tmp_path, small_corpus_dir, small_index_dir):
    demo = build_app(make_kb(tmp_path, small_corpus_dir, small_index_dir))
    public = {d["api_name"] for d in demo.config["dependencies"] if d["api_visibility"] != "private"}
    assert public == API_ENDPOINTS


def test_a_mismatched_index_is_reported_with_the_repair(tmp_path, small_corpus_dir, small_index_dir):
    settings = Settings(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                        index_dir=copy_dir(small_index_dir, tmp_path / "index"))
    kb = KnowledgeBase(settings.replace(chunk=settings.chunk.__class__(size=settings.chunk.size, overlap=100)),
                       policy=AccessPolicy())
    out = health_html(kb)
    assert "kb-danger" in out and "重建索引" in out
    props = components(build_app(kb))
    assert props["repair-btn"]["visible"] is True and props["kb-health"]["visible"] is True


def test_chunk_preview_reads_the_loaded_index(tmp_path, small_corpus_dir, small_index_dir):
    kb = make_kb(tmp_path, small_corpus_dir, small_index_dir)
    article = kb.articles()[0]
    rows = chunks_of(kb, article["source"], article["title"])
    assert len(rows) == article["chunks"] > 0
    assert all(r["end"] - r["start"] == len(r["text"]) and r["title"] == article["title"] for r in rows)
    assert chunks_of(kb, article["source"], "没有这篇文章") == []


@pytest.mark.parametrize("name", ["", None])
def test_workspace_over_one_knowledge_base(tmp_path, small_corpus_dir, small_index_dir, name):
    kb = make_kb(tmp_path, small_corpus_dir, small_index_dir)
    ws = Workspace(kb)
    assert ws.get(name) is kb and not ws.multi and ws.names() == [kb.name]


def test_an_index_an_older_version_built_is_flagged_but_still_answers(tmp_path, small_corpus_dir, small_index_dir):
    import json

    from rag.ui.chat import health_banner

    kb = make_kb(tmp_path, small_corpus_dir, small_index_dir)
    index = kb.settings.index_dir
    manifest = index / (index / "CURRENT").read_text("utf-8").strip() / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text("utf-8")), "loader": "000000000000"}), "utf-8")
    panel = health_html(kb)
    assert "旧版本" in panel and "kb-danger" not in panel  # a notice, not an error: answers still work
    banner = health_banner(Workspace(kb), kb.name)
    assert "旧版本" in banner and "kb-danger" not in banner and 'role="status"' in banner
    assert components(build_app(kb))["repair-btn"]["visible"] is True
