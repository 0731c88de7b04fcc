"""The answering service's pure parts: history checks, reply text, messages → question + history."""

from __future__ import annotations

import pytest

from rag.errors import QuestionError
from rag.schema import Answer, Passage
from rag.server import check_history, question_and_history, reply_text
from rag.server.models import ChatCompletionRequest, Message
from rag.server.service import MAX_HISTORY_TURNS, MAX_TURN_CHARS, strip_sources

TEXT = "正文<script>alert(1)</script>里 & 的内容。"


def passage(text: str = TEXT, title: str = "标题<b>粗</b>") -> Passage:
    return Passage(text=text, source="a.txt", title=title, score=0.5, start=10, end=10 + len(text),
                   chunk_id="c1", publication="某报")


def cited(warnings: list[str] | None = None) -> Answer:
    return Answer(text=f"{TEXT}[1]", citations=[passage()], warnings=list(warnings or []))


def test_reply_has_marks_warnings_then_sources():
    reply = reply_text(cited(["LLM 不可用。已改用抽取式回答。"]))
    body, warning, sources = reply.split("\n\n")
    assert body == f"{TEXT}[1]"
    assert warning == "注意：LLM 不可用。已改用抽取式回答。"
    assert sources.splitlines()[0] == "**来源**"
    assert sources.splitlines()[1].startswith("- [1] 《标题<b>粗</b>》（a.txt，字符 10–")


def test_ask_markdown_escapes_html_from_documents():
    reply = reply_text(cited(["<i>警告</i>"]), escape_html=True)
    assert "<script>" not in reply and "<b>" not in reply and "<i>" not in reply
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply and "&amp;" in reply
    assert "《标题&lt;b&gt;粗&lt;/b&gt;》" in reply and "[1]" in reply


def test_refusal_reply_has_no_sources():
    reply = reply_text(Answer(text="文章中没有提到这个问题的答案。", refused=True))
    assert reply == "文章中没有提到这个问题的答案。"


def test_strip_sources_recovers_the_answer_text():
    assert strip_sources(reply_text(cited(["注意这个"]))) == f"{TEXT}[1]"
    assert strip_sources("普通回答。") == "普通回答。"


@pytest.mark.parametrize("history", [
    "问题", [["只有问题"]], [["问", 1]], [("问", "答", "多")], [{"role": "user"}],
    [["问", "答"]] * (MAX_HISTORY_TURNS + 1), [["长" * (MAX_TURN_CHARS + 1), "答"]],
])
def test_bad_history_is_a_question_error(history):
    with pytest.raises(QuestionError) as err:
        check_history(history)
    assert "history" in str(err.value)


def test_good_history():
    assert check_history(None) == [] and check_history([]) == []
    assert check_history([["问", "答"], ("再问", "")]) == [("问", "答"), ("再问", "")]


def msgs(*pairs: tuple[str, str]) -> list[Message]:
    return [Message(role=r, content=c) for r, c in pairs]


def test_messages_to_question_and_history():
    q, h = question_and_history(msgs(("system", "sys"), ("user", "一"), ("assistant", "答一\n\n**来源**\n- [1] x"),
                                     ("user", "二"), ("user", "三"), ("developer", "d"), ("user", "问")))
    assert q == "问" and h == [["一", "答一"], ["二", ""], ["三", ""]]
    with pytest.raises(QuestionError):
        question_and_history(msgs(("user", "问"), ("assistant", "答")))
    with pytest.raises(QuestionError):
        question_and_history(msgs(("system", "只有系统消息")))


def test_request_model_accepts_what_clients_send():
    body = ChatCompletionRequest.model_validate({
        "model": "rag-zh", "messages": [{"role": "user", "content": [{"type": "text", "text": "问"}], "name": "u"}],
        "temperature": 0.2, "stream_options": {"include_usage": True}, "max_tokens": 100, "user": "x"})
    assert body.messages[0].text == "问" and not body.stream
