"""Follow-up questions: turning 「那它汇集了多少数据？」 into a question retrieval can use.

Only elliptical questions are rewritten (very short, a pronoun, or one key term);
a self-contained question is never touched, whatever came before it. Two
rewriters share one interface, chosen once when the pipeline is built:

- ``KeyTermRewriter`` (no model): puts the previous question's key terms in front;
- ``LLMRewriter``: asks the chat model with the ``rewrite`` prompt, and falls back
  to the key-term rewrite, reporting the failure, when the model cannot be reached
  or the answer's deadline (``rag.llm.Deadline``, passed as ``deadline=``) runs
  out first: the rewrite's wait counts against the answer's one deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from ..errors import LLMError
from ..text import MARK_RE, UNSUPPORTED_MARK
from .analysis import extract_terms
from .prompts import defang

if TYPE_CHECKING:
    from ..llm import Deadline

HISTORY_TURNS = 3  # turns of history the rewrite prompt sees
HISTORY_ANSWER_CHARS = 200  # each earlier answer is cut to this length for the prompt
# A question this short (content characters) leans on the conversation: 「规模呢？」.
ELLIPTICAL_CHARS = 8

History = Iterable[Any]


# --- history ------------------------------------------------------------------

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
    """The last turns as 「用户：…」/「助手：…」 lines, marks dropped, answers cut short."""
    lines = []
    for q, a in pairs[-HISTORY_TURNS:]:
        a = MARK_RE.sub("", a).replace(UNSUPPORTED_MARK, "")
        if len(a) > HISTORY_ANSWER_CHARS:
            a = a[:HISTORY_ANSWER_CHARS] + "…"
        lines.append(f"用户：{defang(q)}")
        lines.append(f"助手：{defang(a) or '（无）'}")
    return "\n".join(lines)


# --- when a question needs the conversation ------------------------------------

_PRONOUN_RE = re.compile("它们|它|他们|她们|他|她|这些|那些|这个|那个|这家|那家|这项|这种|那种|该|其|此|上述|这|那")
_NOT_PRONOUN_RE = re.compile("其他|其它|其中的|尤其|极其|其实|与其|那么|那样|这样|因此|此外|如此|彼此|这里|那里")
_NON_CONTENT_RE = re.compile(r"[\s？?。！!，,、：:；;“”\"'（）()]")


def _terms(text: str) -> list[str]:
    return extract_terms(text)


def is_elliptical(question: str) -> bool:
    """A follow-up that leans on the conversation: very short, a pronoun, or one key term."""
    core = _NON_CONTENT_RE.sub("", question)
    if len(core) <= ELLIPTICAL_CHARS:
        return True
    if _PRONOUN_RE.search(_NOT_PRONOUN_RE.sub("", core)):
        return True
    return len(_terms(question)) <= 1


def carry_terms(question: str, previous: str) -> str:
    """``question`` with the previous question's key terms in front, when it is elliptical."""
    if not previous or not is_elliptical(question):
        return question
    carried = [t for t in _terms(previous) if t not in question]
    if not carried:
        return question
    return " ".join(carried) + " " + question


def standalone_question(question: str, history: list[tuple[str, str]]) -> str:
    """The deterministic rewrite: each question resolved against the one before it."""
    previous = ""
    for q, _a in history:
        previous = carry_terms(q, previous)
    return carry_terms(question, previous)


# --- rewriters -----------------------------------------------------------------

@dataclass
class Rewrite:
    """The query that drives retrieval, and why the model was not used when it failed."""

    query: str
    failure: LLMError | None = None


class Rewriter(Protocol):
    def rewrite(self, question: str, history: list[tuple[str, str]], *,
                deadline: Deadline | None = None) -> Rewrite:
        """The query for ``question``; a rewriter that calls the model waits no longer
        than ``deadline`` (the answer's, shared with its generation)."""
        ...


class KeyTermRewriter:
    """Rewrites elliptical follow-ups by carrying the previous question's key terms."""

    def rewrite(self, question: str, history: list[tuple[str, str]], *,
                deadline: Deadline | None = None) -> Rewrite:
        return Rewrite(standalone_question(question, history))  # no model: nothing to wait for


def clean_rewrite(text: str, question: str) -> str:
    """The model's rewrite as one plain question (prefixes and quotes dropped), else ``question``."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return question
    line = re.sub(r"^(改写后的)?(独立|完整)?问题[：:]\s*", "", lines[0])
    line = line.strip().strip("\"'“”「」『』").strip()
    # A reply far longer than the question is an answer or an essay, not a rewrite.
    if not line or len(line) > 4 * len(question) + 200:
        return question
    return line


class LLMRewriter:
    """Rewrites elliptical follow-ups with the chat model and the ``rewrite`` prompt.

    ``chain`` is a Runnable ``{"question", "history"} → str`` and ``invoke`` calls it
    with retries (``rag.llm.invoke_with_retries`` bound to the LLM settings):
    ``invoke(chain, inputs)``, and ``invoke(chain, inputs, deadline=d)`` when the
    answer has a deadline.
    """

    def __init__(self, chain, invoke) -> None:
        self.chain = chain
        self.invoke = invoke
        self.fallback = KeyTermRewriter()

    def rewrite(self, question: str, history: list[tuple[str, str]], *,
                deadline: Deadline | None = None) -> Rewrite:
        if not history or not is_elliptical(question):
            return Rewrite(question)
        inputs = {"question": defang(question), "history": format_history(history)}
        shared = {} if deadline is None else {"deadline": deadline}  # 2-argument invokes still work
        try:
            raw = self.invoke(self.chain, inputs, **shared)
        except LLMError as exc:
            # The model is unreachable or the deadline ran out: rewrite without it, and
            # answer without a second wait.
            return Rewrite(self.fallback.rewrite(question, history).query, exc)
        return Rewrite(clean_rewrite(raw, question))
