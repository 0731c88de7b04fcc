"""Plain values that flow through the pipeline. Each validates itself on construction."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


def content_hash(*parts: str, length: int = 16) -> str:
    """A short, stable id from content: the same text always gets the same id."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


@dataclass(frozen=True)
class Document:
    """One article: cleaned text plus where it came from.

    A newsletter file holds several articles; each becomes one Document. Chunk
    offsets index into ``text``.
    """

    source: str  # file name, relative to the corpus directory
    title: str
    text: str
    publication: str = ""  # from the article's 来源 line, when it has one
    doc_id: str = ""

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("Document.source must name the file")
        if not self.text.strip():
            raise ValueError(f"Document from {self.source!r} has no text")
        if not self.title.strip():
            raise ValueError(f"Document from {self.source!r} has no title")
        if not self.doc_id:
            object.__setattr__(self, "doc_id", content_hash(self.source, self.title, self.text))


@dataclass(frozen=True)
class Chunk:
    """A span of one document's text, the unit that is embedded and retrieved."""

    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    chunk_id: str = ""

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise ValueError(f"Chunk span [{self.start}, {self.end}) is empty or negative")
        if self.end - self.start != len(self.text):
            raise ValueError("Chunk text length does not match its span")
        if not self.chunk_id:
            object.__setattr__(
                self, "chunk_id", content_hash(self.doc_id, str(self.start), self.text)
            )

    @property
    def text_hash(self) -> str:
        """Key of the embedding cache: identical text is never embedded twice."""
        return content_hash(self.text)


@dataclass
class Passage:
    """A retrieved chunk with its score: what an answer cites."""

    text: str
    source: str
    title: str
    score: float
    start: int
    end: int
    chunk_id: str
    doc_id: str = ""
    publication: str = ""
    # Component scores kept for diagnostics and the refusal decision.
    dense_score: float | None = None
    lexical_score: float | None = None

    def __post_init__(self) -> None:
        if self.end - self.start != len(self.text):
            raise ValueError("Passage text length does not match its span")

    def to_dict(self) -> dict:
        """Plain JSON-serialisable fields (what APIs and LangChain metadata carry)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Passage":
        return cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})

    def citation_dict(self, n: int) -> dict:
        """The citation ``[n]`` as the chat API returns it."""
        return {"n": n, "title": self.title, "source": self.source, "start": self.start,
                "end": self.end, "text": self.text, "publication": self.publication}


@dataclass
class Answer:
    """An answer with inline [n] marks; [n] is ``citations[n-1]``."""

    text: str
    citations: list[Passage] = field(default_factory=list)
    refused: bool = False
    mode: str = "extractive"
    warnings: list[str] = field(default_factory=list)
    query: str = ""  # the question that drove retrieval (rewritten for follow-ups)
    passages: list[Passage] = field(default_factory=list)  # everything retrieved
    # The pre-generation answerability gate: "" not run, "pass", or "refuse" (answered
    # without calling the generator). Evaluation counts LLM-mode gate refusals from it.
    gate: str = ""

    def __post_init__(self) -> None:
        if self.mode not in ("extractive", "llm"):
            raise ValueError(f"Answer.mode must be 'extractive' or 'llm', not {self.mode!r}")
        if self.refused and self.citations:
            raise ValueError("A refusal carries no citations")

    def to_dict(self) -> dict:
        """JSON-serialisable: the shape of the /chat API and of `rag ask --json`."""
        return {
            "text": self.text,
            "citations": [p.citation_dict(n) for n, p in enumerate(self.citations, 1)],
            "refused": self.refused,
            "mode": self.mode,
            "warnings": list(self.warnings),
            "query": self.query,
            "gate": self.gate,
        }

    def sources_markdown(self) -> str:
        """The numbered sources as Markdown, the way the CLI and the API show them."""
        lines = []
        for n, p in enumerate(self.citations, 1):
            lines.append(f"[{n}] 《{p.title}》（{p.source}，字符 {p.start}–{p.end}）")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Answer text followed by its numbered sources."""
        if not self.citations:
            return self.text
        return f"{self.text}\n\n**来源**\n\n" + "\n".join(
            f"{line}  " for line in self.sources_markdown().splitlines()
        )
