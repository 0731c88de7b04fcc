"""Background builds (rag/kb/builds.py, rag/kb/worker.py): one at a time per knowledge base,
in a separate process, repeated requests coalesced into one follow-up, answers from the old
snapshot meanwhile, failures reported in the status."""

from __future__ import annotations

import pytest

from rag.kb import AccessPolicy, Actor, BuildStatus, KnowledgeBase

from _app_server import copy_dir

ADMIN = Actor()
QUESTION = "崂山区的“1134”模式指的是什么？"


@pytest.fixture
def kb(tmp_path, small_settings, small_corpus_dir, small_index_dir):
    settings = small_settings.replace(corpus_dir=copy_dir(small_corpus_dir, tmp_path / "corpus"),
                                      index_dir=copy_dir(small_index_dir, tmp_path / "index"))
    kb = KnowledgeBase(settings, policy=AccessPolicy.local())
    yield kb
    kb.close()


def test_status_messages_and_serialisation():
    s = BuildStatus(state="running", stage="embed", done=3, total=10, follow_up=True, builds=1)
    assert "计算向量 3/10" in s.message and "旧索引" in s.message and "再建一次" in s.message
    assert BuildStatus.from_dict(s.to_dict()) == s and s.to_dict()["running"] is True
    done = BuildStatus(state="done", report={"added": ["a.txt"], "chunks": 5, "embedded": 5, "seconds": 1.5})
    assert done.message.startswith("索引已更新：新增 1") and "共 5 个段落" in done.message
    assert "建索引失败：坏了" == BuildStatus(state="failed", error="坏了").message


@pytest.mark.slow
def test_builds_run_apart_coalesce_and_swap_when_ready(kb):
    old = kb.assistant()
    before = old.answer(QUESTION)
    old_snapshot = old.index.directory.name
    assert not before.refused

    first = kb.rebuild(ADMIN, full=True)
    assert first.status.running and first.status.builds == 1
    # Questions are answered from the old snapshot while the new one is built.
    during = kb.assistant().answer(QUESTION)
    requests = [kb.rebuild(ADMIN) for _ in range(5)]
    assert kb.build_status().running, "the build finished before the test could ask during it"
    assert kb.assistant() is old and during.text == before.text
    assert all(r.status.follow_up and r.status.builds == 1 for r in requests)

    final = kb.wait_for_build()
    assert final.state == "done" and not final.follow_up, final.error
    assert final.builds == 2  # six requests during one build: one follow-up, not five
    assert kb.assistant() is not old
    assert kb.assistant().index.directory.name != old_snapshot
    assert kb.assistant().answer(QUESTION).text == before.text
    assert kb.health().ok


@pytest.mark.slow
def test_a_failed_build_is_reported_and_the_old_index_keeps_answering(kb):
    old = kb.assistant()
    before = old.answer(QUESTION)
    for f in kb.corpus_dir.iterdir():  # nothing left to index: the build fails with a message
        f.unlink()
    status = kb.rebuild(ADMIN, full=True).status
    assert status.running
    final = kb.wait_for_build()
    assert final.state == "failed" and final.error and final.message.startswith("建索引失败：")
    assert "Traceback" not in final.error
    assert kb.assistant() is old and kb.assistant().answer(QUESTION).text == before.text
