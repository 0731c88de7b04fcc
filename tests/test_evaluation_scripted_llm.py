"""rag.evaluation.scripted_llm: the scripted OpenAI-compatible server, driven by the real openai client."""

from __future__ import annotations

import openai
import pytest

from rag.evaluation.scripted_llm import OpenAIServer, Reply

KEY = "sk-scripted-test"


def test_chat_completions_plain_streamed_and_scripted_errors():
    with OpenAIServer(api_key=KEY, default=Reply("默认回答。")) as server:
        client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
        assert [m.id for m in client.models.list()] == ["test-model"]
        server.script(Reply("会议在北京举行。[1]"), Reply(status=429, error_message="slow down"))
        reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "问"}])
        assert reply.choices[0].message.content == "会议在北京举行。[1]"
        with pytest.raises(openai.RateLimitError, match="slow down"):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "问"}])
        stream = client.chat.completions.create(model="m", stream=True,
                                                messages=[{"role": "user", "content": "再问"}])
        assert "".join(c.choices[0].delta.content or "" for c in stream) == "默认回答。"
        assert [r.message_text("user") for r in server.chat_requests] == ["问", "问", "再问"]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=server.url, api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.APIConnectionError):  # closed on leaving the block
        client.with_options(timeout=2).models.list()
