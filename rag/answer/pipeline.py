"""The answer pipeline: validate → rewrite → retrieve → judge → generate → check citations.

Each step runs once per question, in this order:

1. **validate** the question and ``top_k`` (``validation``): bad input raises
   ``QuestionError`` with a Chinese message saying what to type;
2. **rewrite** an elliptical follow-up into a standalone query (``rewriting``); a
   self-contained question is never rewritten; when the model cannot rewrite it
   (down, or the answer's deadline ran out) the key-term rewrite is used and the
   answer is extractive, with the reason in ``Answer.warnings``;
3. **retrieve** ``top_k`` passages (``top_k`` from the call, else ``Settings.top_k``);
4. **judge** whether they answer the question (a ``Verdict``), then the **gate**:
   the generator's policy decides whether to refuse before generating — the
   extractive generator refuses whatever the judge finds unanswerable, the LLM
   generator only questions whose subject retrieval never found;
5. **generate** with the one ``Generator`` chosen when the pipeline was built
   (``generators.make_strategy``); when it fails (model down, timeout) the
   fallback generator answers and ``Answer.warnings`` says why;
6. **check citations** (``citations.check_citations``): marks renumbered to the
   cited passages, marks pointing at nothing removed, marks inside a sentence
   moved to its end, unsupported sentences flagged.

With a model, each answer has **one deadline** (``RAG_LLM_DEADLINE``,
``Strategy.answer_deadline``): made when the answer starts and passed explicitly
(``deadline=``, not a context variable: Gradio iterates the stream on several
threads) to the rewrite and to the generation, so a follow-up waits for the model
no longer than a single question. It runs only while a call waits for the model:
retrieving and judging between the two calls cost the model none of it.

    pipeline = build_pipeline(settings, retriever, index=index, embedder=embedder)
    pipeline.invoke(question, history=None, top_k=None) -> Answer
    pipeline.stream(question, history=None, top_k=None) -> Iterator[str | Answer]

``stream`` yields text pieces as they are produced, then exactly one final,
checked ``Answer``: show the pieces while they come, then replace them with the
final answer's text.
"""

from __future__ import annotations

import time
from typing import Iterator, Protocol

from ..config import Settings
from ..errors import LLMError
from ..llm import Deadline
from ..schema import Answer, Passage
from .base import GenerationFailure, Generator, Judge, Verdict, final_answer
from .citations import check_citations
from .extractive import REFUSAL_TEXT, refusal
from .generators import Resources, Strategy, make_strategy
from .rewriting import History, Rewrite, normalize_history
from .validation import validate_question, validate_top_k

FALLBACK_NOTE = "{failure}。已改用抽取式回答。"
# The model could not rewrite a follow-up (down, or the answer's deadline ran out).
REWRITE_FALLBACK_NOTE = "改写追问失败：{failure}；追问已用上一问的关键词补全。已改用抽取式回答。"
# Separates a broken-off stream from the fallback answer that replaces it.
STREAM_BREAK = "\n\n"

GATE_PASS, GATE_REFUSE, GATE_OFF = "pass", "refuse", ""
__all__ = ["AnswerPipeline", "REFUSAL_TEXT", "build_pipeline", "gate", "make_judge"]


class Retriever(Protocol):
    def retrieve(self, question: str, top_k: int = 5) -> list[Passage]: ...


def gate(generator: Generator, verdict: Verdict | None) -> str:
    """``"refuse"`` when ``generator``'s policy refuses this verdict before generating."""
    if verdict is None:
        return GATE_OFF
    ok = verdict.answerable if generator.refuses_unanswerable else verdict.subject_found
    return GATE_PASS if ok else GATE_REFUSE


class AnswerPipeline:
    """Answers questions; every choice of strategy was made when it was built."""

    def __init__(self, retriever: Retriever, strategy: Strategy, judge: Judge | None,
                 *, top_k: int = 5) -> None:
        self.retriever = retriever
        self.strategy = strategy
        self.judge = judge  # None: no gate (RAG_REFUSE_CHECK=0)
        self.top_k = validate_top_k(top_k)

    @property
    def mode(self) -> str:
        return self.strategy.generator.mode

    # -- public interface

    def invoke(self, question: str, history: History | None = None, top_k: int | None = None,
               *, timings: dict | None = None) -> Answer:
        """The checked Answer."""
        return final_answer(self.stream(question, history=history, top_k=top_k, timings=timings))

    def stream(self, question: str, history: History | None = None, top_k: int | None = None,
               *, timings: dict | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then exactly one final, checked Answer.

        The question and ``top_k`` are checked now, before the first piece is asked for.
        ``timings``, when given, receives each step's milliseconds (validate, rewrite,
        retrieve, judge, generate, check).
        """
        clock = _Clock(timings)
        question, warnings = validate_question(question)
        top_k = validate_top_k(top_k, self.top_k)
        clock.lap("validate")
        return self._run(question, normalize_history(history), top_k, warnings, clock)

    # -- the steps

    def _run(self, question: str, history: list[tuple[str, str]], top_k: int,
             warnings: list[str], clock: "_Clock") -> Iterator[str | Answer]:
        clock.restart()
        deadline = self.strategy.answer_deadline()  # one per answer; None without a model
        rewrite = (self.strategy.rewriter.rewrite(question, history, deadline=deadline)
                   if history else Rewrite(question))
        clock.lap("rewrite")
        query = rewrite.query
        notes = list(warnings)
        generator = self.strategy.generator
        if rewrite.failure is not None:
            notes.append(REWRITE_FALLBACK_NOTE.format(failure=rewrite.failure))
            generator = self.strategy.fallback or generator  # no second wait for the model

        passages = self.retriever.retrieve(query, top_k=top_k)
        clock.lap("retrieve")
        verdict = self.judge(query, passages) if self.judge is not None else None
        clock.lap("judge")

        while True:
            decision = gate(generator, verdict)
            if decision == GATE_REFUSE:
                answer = refusal(query, passages, verdict.reason, mode=generator.mode)
                yield answer.text
                break
            pieces = 0
            try:
                answer = None
                for item in self._generate(generator, query, passages, verdict, deadline):
                    if isinstance(item, Answer):
                        answer = item
                    elif item:
                        pieces += 1
                        yield item
                if answer is None:
                    raise GenerationFailure("生成器没有给出回答")
            except (GenerationFailure, LLMError) as exc:
                fallback = self.strategy.fallback
                if fallback is None or generator is fallback:
                    raise
                notes.append(FALLBACK_NOTE.format(failure=exc))
                if pieces:
                    yield STREAM_BREAK  # the streamed text stops here; the final Answer replaces it
                generator = fallback
                continue
            clock.lap("generate")
            answer = self._check(answer, passages)
            clock.lap("check")
            break

        answer.query = query
        answer.passages = list(passages)
        answer.warnings[:0] = notes
        answer.gate = decision
        yield answer

    def _generate(self, generator: Generator, query: str, passages: list[Passage],
                  verdict: Verdict | None, deadline: Deadline | None) -> Iterator[str | Answer]:
        """``generator``'s stream; the model's generator gets the answer's deadline, the
        fallback (which never waits for the model) does not."""
        evidence = verdict.evidence if verdict else None
        if deadline is None or generator is not self.strategy.generator:
            return generator.stream(query, passages, evidence)
        return generator.stream(query, passages, evidence, deadline=deadline)

    @staticmethod
    def _check(answer: Answer, passages: list[Passage]) -> Answer:
        """The citation check: every [n] points at a retrieved passage, after its sentence."""
        if answer.refused:
            return answer
        stray = [c for c in answer.citations if c not in passages]
        if stray:
            raise GenerationFailure(f"生成器引用了未检索到的段落：{stray[0].chunk_id}")
        checked = check_citations(answer.text, answer.citations)
        answer.text = checked.text
        answer.citations = checked.citations
        answer.warnings.extend(checked.warnings)
        return answer


class _Clock:
    """Milliseconds per step into ``timings`` (a no-op without one)."""

    def __init__(self, timings: dict | None) -> None:
        self.timings = timings
        self.restart()

    def restart(self) -> None:
        self.t = time.perf_counter()

    def lap(self, step: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[step] = self.timings.get(step, 0.0) + (now - self.t) * 1000
            self.t = now


def make_judge(settings: Settings, resources: Resources) -> Judge | None:
    """The judge step (None when RAG_REFUSE_CHECK=0)."""
    if not settings.refuse_check:
        return None
    from .judge import EvidenceJudge

    return EvidenceJudge(resources.index, resources.embedder, translate=resources.translate,
                         unknown_names=resources.unknown_names)


def build_pipeline(settings: Settings, retriever: Retriever, *, index=None, embedder=None
                   ) -> AnswerPipeline:
    """The pipeline for ``settings``: strategy and judge chosen here, once.

    ``index`` (optional) lends IDF weights and stored sentence vectors; ``embedder``
    defaults to the model named by ``settings.embed_model`` (loaded on first use).
    """
    if embedder is None:
        from ..embedding import make_embedder

        embedder = make_embedder(settings.embed_model)
    resources = Resources(index=index, embedder=embedder, translate=getattr(retriever, "translation", None),
                          unknown_names=getattr(retriever, "unknown_names", None))
    return AnswerPipeline(retriever, make_strategy(settings, resources),
                          make_judge(settings, resources), top_k=settings.top_k)
