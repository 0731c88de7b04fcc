"""The LLM generator: an OpenAI-compatible chat model answers from the numbered passages.

An LCEL chain, ``prompt | ChatOpenAI | StrOutputParser``, over the ``answer``
prompt (passages fenced as data, one ``[n]`` per statement, "say the passages do
not hold the answer" when they do not). Calls go through ``rag.llm``'s bounded
retries within the answer's ``deadline`` (the one the rewrite already used, passed
by the pipeline); a call that fails for good, or the deadline running out, raises
``LLMFailure`` and the pipeline falls back to the extractive generator. The model
decides answerability for every question whose subject retrieval found
(``refuses_unanswerable = False``).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Iterator

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from ..config import LLMSettings
from ..llm import Deadline, LLMFailure, chat_model, stream_with_retries
from ..schema import Answer, Passage
from ..text import MARK_RE
from .citations import normalize_marks
from .prompts import PromptTemplate, defang, format_passages

# A reply that cites nothing and says the passages lack the answer is a refusal.
REFUSAL_RE = re.compile(
    r"(没有|未|并未|无法)(找到|提到|提及|包含|涉及|回答|给出)|不包含|找不到|无相关|没有相关"
)


def answer_inputs(x: dict) -> dict:
    """{question, passages} → the answer prompt's variables."""
    return {"question": defang(x["question"]), "passages": format_passages(x["passages"])}


class LLMGenerator:
    """Answers with the chat model; ``[n]`` in its reply is ``passages[n-1]``."""

    mode = "llm"
    refuses_unanswerable = False

    def __init__(self, llm: LLMSettings, prompt: PromptTemplate) -> None:
        self.llm = llm
        self.prompt = prompt
        self._chain: Runnable | None = None
        self._lock = threading.Lock()

    @property
    def chain(self) -> Runnable:
        """{question, passages} → the model's raw text (built on first use)."""
        with self._lock:
            if self._chain is None:
                self._chain = (
                    RunnableLambda(answer_inputs)
                    | self.prompt.to_langchain()
                    | chat_model(self.llm)
                    | StrOutputParser()
                )
            return self._chain

    def stream(self, question: str, passages: list[Passage], evidence: Any = None, *,
               deadline: Deadline | None = None) -> Iterator[str | Answer]:
        """The model's pieces, then the Answer; the whole stream ends by ``deadline``
        (the answer's, else a fresh one of ``RAG_LLM_DEADLINE`` seconds)."""
        pieces: list[str] = []
        for piece in stream_with_retries(self.chain, {"question": question, "passages": passages},
                                         self.llm, deadline=deadline):
            pieces.append(piece)
            yield piece
        raw = "".join(pieces).strip()
        if not raw:
            raise LLMFailure("LLM 返回了空回答", kind="other")
        if not MARK_RE.search(normalize_marks(raw)) and REFUSAL_RE.search(raw):
            yield Answer(text=raw, refused=True, mode=self.mode)
            return
        # [n] refers to passages[n-1]; the pipeline's citation check keeps what is cited.
        yield Answer(text=raw, citations=list(passages), mode=self.mode)
