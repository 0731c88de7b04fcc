"""The chat model client against a real OpenAI-compatible server on 127.0.0.1.

What is sent (model, key, parameters), streamed pieces, and every failure:
which are retried (429, 5xx, timeout, refused connection), which are not
(401, 403, 404), and the message that names the cause. No client is mocked.
"""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from _openai_server import TEST_KEY, OpenAIServer, Reply, openai_server  # noqa: F401
from rag.config import LLMSettings
from rag.errors import ConfigError, LLMError
from rag.llm import (
    LLMFailure,
    chat_model,
    invoke_with_retries,
    redact,
    stream_with_retries,
)

FAST_RETRY = {"retry-after-ms": "5"}  # servers may say how long to wait; keeps tests quick


def settings(server: OpenAIServer, **changes) -> LLMSettings:
    values = dict(base_url=server.url, api_key=TEST_KEY, model="qwen-test", temperature=0.2,
                  timeout=5.0, max_tokens=300, max_retries=2)
    values.update(changes)
    return LLMSettings(**values)


def pipeline(llm: LLMSettings):
    prompt = ChatPromptTemplate.from_messages([("system", "只用中文回答。"), ("human", "{q}")])
    return prompt | chat_model(llm) | StrOutputParser()


def test_request_carries_model_key_and_parameters(openai_server):
    llm = settings(openai_server)
    openai_server.script(Reply("会议在北京举行。"))
    assert invoke_with_retries(pipeline(llm), {"q": "会议在哪里举行？"}, llm) == "会议在北京举行。"
    [request] = openai_server.chat_requests
    assert request.path == "/v1/chat/completions"
    assert request.header("Authorization") == f"Bearer {TEST_KEY}"
    body = request.body
    assert body["model"] == "qwen-test"
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 300  # compatible servers all read max_tokens
    assert body["stream"] is False
    assert body["messages"] == [
        {"role": "system", "content": "只用中文回答。"},
        {"role": "user", "content": "会议在哪里举行？"},
    ]


def test_stream_yields_pieces_as_they_arrive(openai_server):
    llm = settings(openai_server)
    gate = threading.Event()
    reply = Reply(pieces=["会议", "在北京", "举行。", "[1]"], gate=gate)
    openai_server.script(reply)
    received = []
    for piece in stream_with_retries(pipeline(llm), {"q": "会议在哪里举行？"}, llm):
        received.append(piece)
        gate.set()  # the server sends the rest only after we got the first piece
    assert received == ["会议", "在北京", "举行。", "[1]"]
    assert reply.gate_released is True
    assert openai_server.chat_requests[0].body["stream"] is True


@pytest.mark.parametrize(
    "status, kind, words",
    [
        (401, "auth", ["401", "OPENAI_API_KEY"]),
        (403, "forbidden", ["403", "qwen-test"]),
        (404, "not_found", ["404", "RAG_LLM_MODEL=qwen-test", "OPENAI_BASE_URL"]),
        (400, "bad_request", ["400", "RAG_LLM_MAX_TOKENS"]),
    ],
)
def test_client_errors_fail_at_once_with_the_cause(openai_server, status, kind, words):
    llm = settings(openai_server)
    openai_server.script(*[Reply(status=status, headers=FAST_RETRY)] * 3)
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(pipeline(llm), {"q": "问题"}, llm)
    assert len(openai_server.chat_requests) == 1  # retrying cannot fix these
    assert err.value.kind == kind and err.value.status == status
    assert isinstance(err.value, LLMError)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(
    "status, kind", [(429, "rate_limit"), (500, "server"), (502, "server"), (503, "server")]
)
def test_transient_errors_are_retried_then_reported(openai_server, status, kind):
    llm = settings(openai_server, max_retries=2)
    openai_server.script(*[Reply(status=status, headers=FAST_RETRY)] * 3)
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(pipeline(llm), {"q": "问题"}, llm)
    assert len(openai_server.chat_requests) == 3  # one try plus max_retries
    assert err.value.kind == kind and err.value.attempts == 3
    assert str(status) in str(err.value) and "共尝试 3 次" in str(err.value)


def test_transient_errors_then_success(openai_server):
    llm = settings(openai_server, max_retries=2)
    openai_server.script(Reply(status=429, headers=FAST_RETRY), Reply(status=503, headers=FAST_RETRY),
                         Reply("好的。"))
    assert invoke_with_retries(pipeline(llm), {"q": "问题"}, llm) == "好的。"
    assert len(openai_server.chat_requests) == 3


def test_stream_retries_before_the_first_piece(openai_server):
    llm = settings(openai_server, max_retries=1)
    openai_server.script(Reply(status=500, headers=FAST_RETRY), Reply(pieces=["第一", "第二"]))
    assert list(stream_with_retries(pipeline(llm), {"q": "问题"}, llm)) == ["第一", "第二"]
    assert len(openai_server.chat_requests) == 2


def test_backoff_without_retry_after_waits_and_grows(openai_server):
    llm = settings(openai_server, max_retries=2)
    openai_server.script(Reply(status=503), Reply(status=503), Reply("好。"))
    waits: list[float] = []
    assert invoke_with_retries(pipeline(llm), {"q": "问题"}, llm, sleep=waits.append) == "好。"
    assert len(waits) == 2 and 0 < waits[0] < waits[1]


def test_long_retry_after_is_capped(openai_server):
    llm = settings(openai_server, max_retries=1)
    openai_server.script(Reply(status=429, headers={"retry-after": "120"}), Reply("好。"))
    waits: list[float] = []
    invoke_with_retries(pipeline(llm), {"q": "问题"}, llm, sleep=waits.append)
    assert waits == [8.0]  # never two minutes


def test_slow_server_hits_the_timeout(openai_server):
    llm = settings(openai_server, timeout=0.5, max_retries=1)
    openai_server.script(Reply("太慢了", delay=3), Reply("太慢了", delay=3))
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(pipeline(llm), {"q": "问题"}, llm)
    assert err.value.kind == "timeout"
    assert "超时" in str(err.value) and "RAG_LLM_TIMEOUT" in str(err.value)
    assert len(openai_server.chat_requests) == 2


def test_stream_stalling_after_first_piece_times_out_without_retry(openai_server):
    llm = settings(openai_server, timeout=0.5, max_retries=2)
    openai_server.script(Reply(pieces=["开头", "永远", "不来"], piece_delay=3))
    received = []
    with pytest.raises(LLMFailure) as err:
        for piece in stream_with_retries(pipeline(llm), {"q": "问题"}, llm):
            received.append(piece)
    assert received == ["开头"]
    assert err.value.kind == "timeout"
    assert len(openai_server.chat_requests) == 1  # pieces were shown: no second attempt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_is_retried_then_named():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    llm = LLMSettings(base_url=url, api_key=TEST_KEY, model="m", timeout=2, max_retries=1)
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(pipeline(llm), {"q": "问题"}, llm, sleep=lambda s: None)
    assert err.value.kind == "connection" and err.value.attempts == 2
    assert url in str(err.value) and "OPENAI_BASE_URL" in str(err.value)


def test_wrong_key_is_rejected_and_never_shown_or_logged(openai_server, caplog):
    wrong = "sk-wrong-0123456789abcdef"
    llm = settings(openai_server, api_key=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMFailure) as err:
        invoke_with_retries(pipeline(llm), {"q": "问题"}, llm)
    assert err.value.kind == "auth"
    assert openai_server.chat_requests[0].header("Authorization") == f"Bearer {wrong}"
    assert wrong not in str(err.value)
    assert wrong not in repr(llm)
    assert wrong not in caplog.text


def test_redact_hides_keys():
    llm = LLMSettings(api_key="sk-abcdefghijklmnop", model="m")
    assert "abcdefghijklmnop" not in redact("bad key sk-abcdefghijklmnop given", llm)
    assert "secret" not in redact("Authorization: Bearer secret", llm)
    assert "0123456789ab" not in redact("Incorrect API key: sk-zz0123456789abcd", llm)


def test_settings_that_cannot_work_are_config_errors():
    with pytest.raises(ConfigError, match="RAG_LLM_MODEL"):
        chat_model(LLMSettings(api_key="k"))
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        chat_model(LLMSettings(model="m"))
    with pytest.raises(ConfigError, match="OPENAI_BASE_URL"):
        chat_model(LLMSettings(base_url="localhost:8000", api_key="k", model="m"))
    with pytest.raises(ConfigError, match="RAG_LLM_TIMEOUT"):
        chat_model(LLMSettings(api_key="k", model="m", timeout=0))
