"""The one strategy point: which generator and which rewriter answer, chosen once by name.

``STRATEGIES`` maps ``Settings.llm_mode`` to a factory; ``make_strategy`` is called
once, where the pipeline is built, and nothing downstream asks which mode it is in.

    extractive  the best sentences of the passages, no model (``rag.answer.extractive``)
    openai      an OpenAI-compatible chat model (``LLMGenerator``), with the extractive
                generator as its fallback and the model rewriting follow-ups; one
                ``RAG_LLM_DEADLINE`` per answer covers the rewrite and the generation

Add a strategy by registering a factory: ``@register("name")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Sequence

from ..config import Settings
from ..errors import ConfigError
from ..llm import Deadline
from .base import Generator
from .rewriting import KeyTermRewriter, LLMRewriter, Rewriter


@dataclass
class Resources:
    """What the judge and the generators use: the live index (idf, stored sentence vectors),
    the embedder (the e5 model the index was built with; loaded on first use) and, when the
    retriever has a glossary, the articles' Chinese words for a question in another language and the
    names in it the glossary cannot place."""

    index: Any = None
    embedder: Any = None
    translate: Callable[[str], Sequence[str]] | None = None
    unknown_names: Callable[[str], Sequence[str]] | None = None


@dataclass
class Strategy:
    """The generator, its fallback (used when it fails) and the follow-up rewriter.

    ``deadline`` is how many seconds one answer may wait for the model, the rewrite
    and the generation together (``RAG_LLM_DEADLINE``); None when nothing here calls
    a model. When it is set, the pipeline passes each answer's ``Deadline`` as
    ``deadline=`` to the rewriter and to ``generator.stream`` (never to the fallback,
    which must not wait for the model).
    """

    generator: Generator
    fallback: Generator | None
    rewriter: Rewriter
    deadline: float | None = None

    def answer_deadline(self) -> Deadline | None:
        """A fresh budget for one answer: it runs only while the answer waits for the model."""
        return None if self.deadline is None else Deadline(self.deadline, running=False)


StrategyFactory = Callable[[Settings, Resources], Strategy]
STRATEGIES: dict[str, StrategyFactory] = {}


def register(name: str) -> Callable[[StrategyFactory], StrategyFactory]:
    def add(factory: StrategyFactory) -> StrategyFactory:
        STRATEGIES[name] = factory
        return factory

    return add


def extractive_generator(settings: Settings, resources: Resources) -> Generator:
    """The extractive generator over ``resources`` (idf and stored sentence vectors from the index)."""
    from .extractive import ExtractiveGenerator

    return ExtractiveGenerator(resources.index, resources.embedder, translate=resources.translate)


@register("extractive")
def _extractive(settings: Settings, resources: Resources) -> Strategy:
    return Strategy(extractive_generator(settings, resources), None, KeyTermRewriter())


@register("openai")
def _openai(settings: Settings, resources: Resources) -> Strategy:
    from langchain_core.output_parsers import StrOutputParser

    from ..llm import REWRITE_MAX_TOKENS, chat_model, invoke_with_retries
    from .llm_generator import LLMGenerator
    from .prompts import ANSWER_PROMPT, REWRITE_PROMPT, load_prompt

    # Loaded now, so a broken prompt file fails at start-up, not mid-answer.
    answer_prompt = load_prompt(ANSWER_PROMPT, settings.prompts_dir)
    rewrite_prompt = load_prompt(REWRITE_PROMPT, settings.prompts_dir)
    rewrite_chain = (
        rewrite_prompt.to_langchain()
        | chat_model(settings.llm, max_tokens=REWRITE_MAX_TOKENS)
        | StrOutputParser()
    )
    rewriter = LLMRewriter(rewrite_chain, partial(invoke_with_retries, llm=settings.llm))
    return Strategy(LLMGenerator(settings.llm, answer_prompt),
                    extractive_generator(settings, resources), rewriter,
                    deadline=settings.llm.deadline)


def make_strategy(settings: Settings, resources: Resources | None = None) -> Strategy:
    """The strategy named by ``settings.llm_mode``."""
    try:
        factory = STRATEGIES[settings.llm_mode]
    except KeyError:
        raise ConfigError(
            f"RAG_LLM={settings.llm_mode!r}：可选 {'、'.join(sorted(STRATEGIES))}"
        ) from None
    return factory(settings, resources or Resources())
