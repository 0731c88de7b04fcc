"""The answer chain: (rewrite) → retrieve → refuse or generate → check citations → Answer.

Built with LangChain (LCEL). Our retriever is wrapped as a LangChain
``BaseRetriever``; the generator is ``prompt | ChatOpenAI | StrOutputParser`` for
an OpenAI-compatible model, or a ``RunnableLambda`` around the extractive
answerer when no LLM is configured, so callers (``Assistant``, the CLI, the UI)
see one interface in every mode:

    chain = build_chain(settings, retriever, extractive)
    chain.invoke(question, top_k=5, history=None) -> Answer
    chain.stream(question, top_k=5, history=None) -> Iterator[str | Answer]

``stream`` yields text pieces as the model produces them, then exactly one
final ``Answer`` whose text is the *checked* one (marks renumbered, bogus marks
removed, unsupported sentences flagged): show the pieces while they come, then
replace them with the final answer.

When the passages hold no answer (``assess_evidence``), the chain refuses
without calling the model. When the model fails (timeout, refused connection,
401/403/404, 429, 5xx) after bounded retries, the answer falls back to the
extractive answerer and says why in ``Answer.warnings``.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Iterable, Iterator

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.output_parsers import StrOutputParser
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from .answering import (
    ExtractiveAnswerer,
    assess_evidence,
    extract_terms,
    refusal,
    validate_question,
)
from .citations import check_citations
from .config import Settings
from .llm import REWRITE_MAX_TOKENS, LLMFailure, chat_model, invoke_with_retries, stream_with_retries
from .prompts import ANSWER_PROMPT, REWRITE_PROMPT, load_prompt
from .retrieval import Retriever
from .schema import Answer, Passage

HISTORY_TURNS = 3  # turns of history the rewrite prompt sees
HISTORY_ANSWER_CHARS = 200  # each earlier answer is cut to this length for the prompt

History = Iterable[Any]


# --- retrieval as a LangChain retriever ----------------------------------------

class PassageRetriever(BaseRetriever):
    """Our ``Retriever`` as a LangChain retriever; each Document keeps its Passage."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    top_k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, top_k: int | None = None
    ) -> list[LCDocument]:
        passages = self.retriever.retrieve(query, top_k=top_k or self.top_k)
        return [
            LCDocument(
                page_content=p.text,
                metadata={"passage": p, "title": p.title, "source": p.source, "start": p.start,
                          "end": p.end, "chunk_id": p.chunk_id},
            )
            for p in passages
        ]


def passages_of(documents: list[LCDocument]) -> list[Passage]:
    return [d.metadata["passage"] for d in documents]


# --- prompt inputs ------------------------------------------------------------

_FENCE_RE = re.compile(r"<(/?)\s*资料")


def _defang(text: str) -> str:
    """Text that cannot close or open a passage fence (``<资料`` → ``＜资料``)."""
    return _FENCE_RE.sub(lambda m: "＜" + m.group(1) + "资料", text)


def format_passages(passages: list[Passage]) -> str:
    """Passages numbered [1]..[k] with their titles, each fenced as data."""
    blocks = []
    for n, p in enumerate(passages, 1):
        title = _defang(p.title).replace('"', "＂")
        source = _defang(p.source).replace('"', "＂")
        blocks.append(
            f'<资料 编号="{n}" 标题="《{title}》" 文件="{source}">\n{_defang(p.text)}\n</资料>'
        )
    return "\n\n".join(blocks)


def normalize_history(history: History | None) -> list[tuple[str, str]]:
    """(question, answer) pairs from pairs or from chat messages ({"role", "content"})."""
    if not history:
        return []
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for item in history:
        if isinstance(item, dict):
            role, content = item.get("role"), item.get("content")
            if not isinstance(content, str):
                continue  # files, images, components: nothing to carry
            if role == "user":
                if pending is not None:
                    pairs.append((pending, ""))
                pending = content
            elif role == "assistant" and pending is not None:
                pairs.append((pending, content))
                pending = None
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            q, a = item
            if isinstance(q, str) and q.strip():
                pairs.append((q, a if isinstance(a, str) else ""))
    if pending is not None:
        pairs.append((pending, ""))
    return [(q.strip(), a.strip()) for q, a in pairs if q.strip()]


def format_history(pairs: list[tuple[str, str]]) -> str:
    lines = []
    for q, a in pairs[-HISTORY_TURNS:]:
        a = re.sub(r"\[\d+\]|⚠", "", a)
        if len(a) > HISTORY_ANSWER_CHARS:
            a = a[:HISTORY_ANSWER_CHARS] + "…"
        lines.append(f"用户：{_defang(q)}")
        lines.append(f"助手：{_defang(a) or '（无）'}")
    return "\n".join(lines)


# --- follow-up questions without an LLM -----------------------------------------

_PRONOUN_RE = re.compile("它们|它|他们|她们|他|她|这些|那些|这个|那个|这家|那家|这项|这种|那种|该|其|此|上述|这|那")
_NOT_PRONOUN_RE = re.compile("其他|其它|其中的|尤其|极其|其实|与其|那么|那样|这样|因此|此外|如此|彼此")
ELLIPTICAL_CHARS = 8


def is_elliptical(question: str) -> bool:
    """A follow-up that leans on the conversation: very short, a pronoun, or one key term."""
    core = re.sub(r"[\s？?。！!，,]", "", question)
    if len(core) <= ELLIPTICAL_CHARS:
        return True
    if _PRONOUN_RE.search(_NOT_PRONOUN_RE.sub("", core)):
        return True
    return len(extract_terms(question)) <= 1


def carry_terms(question: str, previous: str) -> str:
    """``question`` with the previous question's key terms in front, when it is elliptical."""
    if not previous or not is_elliptical(question):
        return question
    carried = [t for t in extract_terms(previous) if t not in question]
    if not carried:
        return question
    return " ".join(carried) + " " + question


def standalone_question(question: str, history: list[tuple[str, str]]) -> str:
    """The deterministic rewrite: each question resolved against the one before it."""
    previous = ""
    for q, _a in history:
        previous = carry_terms(q, previous)
    return carry_terms(question, previous)


def _clean_rewrite(text: str, question: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return question
    line = re.sub(r"^(改写后的)?(独立|完整)?问题[：:]\s*", "", lines[0])
    line = line.strip().strip("\"'“”「」『』").strip()
    if not line or len(line) > 4 * len(question) + 200:
        return question
    return line


# --- the chain ----------------------------------------------------------------

_REFUSAL_RE = re.compile(
    r"(没有|未|并未|无法)(找到|提到|提及|包含|涉及|回答|给出)|不包含|找不到|无相关|没有相关"
)


class AnswerChain:
    """Answers questions with one interface whether an LLM is configured or not."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        extractive: ExtractiveAnswerer | None = None,
        prompts_dir=None,
    ) -> None:
        self.settings = settings
        self.retriever = PassageRetriever(retriever=retriever, top_k=settings.top_k)
        self.extractive = extractive or ExtractiveAnswerer(refuse_check=settings.refuse_check)
        self.mode = "llm" if settings.llm_mode == "openai" else "extractive"
        self._lock = threading.Lock()
        self._generate: Runnable | None = None
        self._rewrite: Runnable | None = None
        self.extractive_generate: Runnable = RunnableLambda(self._extractive_answer)
        if self.mode == "llm":
            directory = prompts_dir or settings.prompts_dir
            # Checked now, so a broken prompt file fails at start-up, not mid-answer.
            self.answer_prompt = load_prompt(ANSWER_PROMPT, directory)
            self.rewrite_prompt = load_prompt(REWRITE_PROMPT, directory)

    # -- the LCEL pieces

    @property
    def generate(self) -> Runnable:
        """{question, passages} → answer: the model's raw text, or an extractive Answer."""
        if self.mode != "llm":
            return self.extractive_generate
        with self._lock:
            if self._generate is None:
                self._generate = (
                    RunnableLambda(self._answer_inputs)
                    | self.answer_prompt.to_langchain()
                    | chat_model(self.settings.llm)
                    | StrOutputParser()
                )
            return self._generate

    @property
    def rewrite(self) -> Runnable:
        """{question, history} → a standalone question."""
        if self.mode != "llm":
            return RunnableLambda(lambda x: standalone_question(x["question"], x["history"]))
        with self._lock:
            if self._rewrite is None:
                self._rewrite = (
                    RunnableLambda(lambda x: {"question": x["question"],
                                              "history": format_history(x["history"])})
                    | self.rewrite_prompt.to_langchain()
                    | chat_model(self.settings.llm, max_tokens=REWRITE_MAX_TOKENS)
                    | StrOutputParser()
                )
            return self._rewrite

    @staticmethod
    def _answer_inputs(x: dict) -> dict:
        return {"question": _defang(x["question"]), "passages": format_passages(x["passages"])}

    def _extractive_answer(self, x: dict) -> Answer:
        evidence = x.get("evidence")
        if evidence is not None:  # already decided answerable: do not assess twice
            return self.extractive.compose(x["question"], x["passages"], evidence)
        return self.extractive.answer(x["question"], x["passages"])

    # -- public interface

    def invoke(self, question: str, top_k: int = 5, history: History | None = None) -> Answer:
        """The checked Answer (non-streaming request to the model)."""
        final = None
        for item in self._run(question, top_k, history, streaming=False):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, top_k: int = 5, history: History | None = None
               ) -> Iterator[str | Answer]:
        """Text pieces as they arrive, then exactly one final, checked Answer."""
        return self._run(question, top_k, history, streaming=True)

    # -- the steps

    def _run(self, question: str, top_k: int, history: History | None, streaming: bool
             ) -> Iterator[str | Answer]:
        question, warnings = validate_question(question)
        pairs = normalize_history(history)
        failure: LLMFailure | None = None
        query = question
        if pairs:
            query, failure = self._standalone(question, pairs)
        passages = passages_of(self.retriever.invoke(query, top_k=top_k))

        evidence = None
        if self.extractive.refuse_check:
            evidence = assess_evidence(query, passages, self.extractive.idf, self.extractive.policy)
            if not evidence.answerable:
                mode = "extractive" if failure else self.mode
                answer = refusal(query, passages, evidence.reason, mode=mode,
                                 warnings=warnings + self._failure_notes(failure))
                yield answer.text
                yield answer
                return

        if self.mode == "llm" and failure is None:
            inputs = {"question": query, "passages": passages}
            pieces: list[str] = []
            try:
                if streaming:
                    for piece in stream_with_retries(self.generate, inputs, self.settings.llm):
                        pieces.append(piece)
                        yield piece
                    raw = "".join(pieces)
                else:
                    raw = invoke_with_retries(self.generate, inputs, self.settings.llm)
            except LLMFailure as exc:
                failure = exc
            else:
                if raw.strip():
                    yield self._finish(raw, passages, query, warnings)
                    return
                failure = LLMFailure("LLM 返回了空回答", kind="other")
            if pieces:
                yield "\n\n"  # the streamed text stops here; the final Answer replaces it

        answer = self.extractive_generate.invoke(
            {"question": query, "passages": passages, "evidence": evidence}
        )
        answer.query = query
        answer.passages = list(passages)
        answer.warnings[:0] = warnings + self._failure_notes(failure)
        yield from _pieces(answer.text)
        yield answer

    def _standalone(self, question: str, pairs: list[tuple[str, str]]
                    ) -> tuple[str, LLMFailure | None]:
        if self.mode != "llm":
            return standalone_question(question, pairs), None
        try:
            raw = invoke_with_retries(
                self.rewrite, {"question": question, "history": pairs}, self.settings.llm
            )
        except LLMFailure as exc:
            # The model is unreachable: answer extractively, without a second wait.
            return standalone_question(question, pairs), exc
        return _clean_rewrite(raw, question), None

    @staticmethod
    def _failure_notes(failure: LLMFailure | None) -> list[str]:
        return [f"{failure}。已改用抽取式回答。"] if failure else []

    def _finish(self, raw: str, passages: list[Passage], query: str, warnings: list[str]
                ) -> Answer:
        checked = check_citations(raw, passages)
        if not checked.citations and _REFUSAL_RE.search(checked.text):
            return Answer(text=checked.text.replace("⚠", ""), refused=True, mode="llm",
                          warnings=list(warnings), query=query, passages=list(passages))
        return Answer(
            text=checked.text,
            citations=checked.citations,
            mode="llm",
            warnings=list(warnings) + checked.warnings,
            query=query,
            passages=list(passages),
        )


def _pieces(text: str) -> list[str]:
    """An extractive answer in a few pieces: one per cited sentence."""
    parts = re.findall(r".+?(?:\[\d+\])+|.+$", text, flags=re.S)
    return [p for p in parts if p] or [text]


def build_chain(
    settings: Settings,
    retriever: Retriever,
    extractive: ExtractiveAnswerer | None = None,
    prompts_dir=None,
) -> AnswerChain:
    """The answer chain for ``settings``: LLM when configured, else extractive."""
    return AnswerChain(settings, retriever, extractive, prompts_dir=prompts_dir)
