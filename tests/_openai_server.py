"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

The server itself lives in ``rag.evaluation.scripted_llm`` (``rag eval`` starts it to
measure the LLM-mode gate); this module keeps the names the tests import and the
``openai_server`` fixture.

    server = OpenAIServer(api_key="sk-test").start()
    server.script(Reply("会议在北京举行。[1]"), Reply(status=429))
    ... server.url ...   # "http://127.0.0.1:PORT/v1"
    server.requests[0].body["messages"]
    server.close()
"""

from __future__ import annotations

from typing import Iterator

import pytest

from rag.evaluation.scripted_llm import ERROR_TYPES, OpenAIServer, Reply, Request  # noqa: F401

TEST_KEY = "sk-test-4f9c2a7e1b3d5f60"


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh scripted server per test; it expects ``Authorization: Bearer TEST_KEY``."""
    server = OpenAIServer(api_key=TEST_KEY).start()
    yield server
    server.close()
