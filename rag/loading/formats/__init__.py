"""The registry of file formats: one module per format, registered by suffix.

A format is a small object with ``name``, ``suffixes``, ``kind`` (what the bytes
must really be: "text", "html", "pdf", "docx", …), ``detects(data)`` (its binary
signature; text formats answer False) and the one main method ``read(data, label)``
returning ``Extracted`` text. Adding ``.pptx`` is one new module in this folder that
defines such a class and calls ``register`` (modules here are imported automatically)
— sniffing, ``SUPPORTED_SUFFIXES``, the upload check and folder discovery all read
the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# A heading or bold line this short right above another heading or the title is a section label
# (「要闻」), not a title or an article start: shared by the Word and PDF title rules and the heading split.
MAX_LABEL_CHARS = 6


@dataclass(frozen=True)
class Heading:
    """A heading the file's structure marks, in reading order: its text and level.

    ``level`` 0 is a document title (Word's Title style), 1 the top heading level
    (Word Heading 1 / 标题 1 or outline level 1, HTML ``<h1>``, Markdown ``#``, the
    largest heading font of a PDF), 2 the next, and so on. The article splitter
    uses them to find where the articles of a newsletter begin (``rag.loading.headings``).
    """

    text: str
    level: int

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("Heading.text must not be empty")
        if not isinstance(self.level, int) or self.level < 0:
            raise ValueError(f"Heading.level must be a whole number ≥ 0, not {self.level!r}")

    def to_dict(self) -> dict:
        return {"text": self.text, "level": self.level}

    @classmethod
    def from_dict(cls, data: dict) -> "Heading":
        return cls(text=str(data["text"]), level=int(data["level"]))


@dataclass(frozen=True)
class Extracted:
    """What a reader got out of a file: its text, a title and the headings its structure names.

    ``title`` comes from structure, not guessing: a Word Title/Heading 1 paragraph, an
    HTML ``<h1>``/``<title>``, a Markdown ``#`` heading, the large-font first lines of a
    PDF. The article splitter prefers it to its text heuristics. ``headings`` are every
    heading the structure marks (Word styles and outline levels, HTML ``<h1>``/``<h2>``,
    Markdown ``#``/``##``, PDF font sizes); plain text has none.
    """

    text: str
    title: str = ""
    headings: tuple[Heading, ...] = ()

    def to_dict(self) -> dict:
        return {"text": self.text, "title": self.title, "headings": [h.to_dict() for h in self.headings]}

    @classmethod
    def from_dict(cls, data: dict) -> "Extracted":
        return cls(text=str(data["text"]), title=str(data.get("title", "")),
                   headings=tuple(Heading.from_dict(h) for h in data.get("headings", ())))


@runtime_checkable
class Format(Protocol):
    name: str  # "pdf"
    suffixes: tuple[str, ...]  # (".pdf",), lower case with the dot
    kind: str  # what the content must be: "text", "html", "pdf", "docx"
    description: str  # for messages: "PDF 文件"

    def detects(self, data: bytes) -> bool:
        """True when ``data`` carries this format's binary signature (text formats: False)."""

    def read(self, data: bytes, label: str) -> Extracted:
        """The text of the file (LoadError, naming ``label``, when it cannot be read)."""


_BY_SUFFIX: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Make ``fmt`` the reader of its suffixes."""
    for suffix in fmt.suffixes:
        if suffix != suffix.lower() or not suffix.startswith("."):
            raise ValueError(f"format {fmt.name}: suffix {suffix!r} must be lower case and start with '.'")
        _BY_SUFFIX[suffix] = fmt
    return fmt


def format_for(suffix: str) -> Format | None:
    return _BY_SUFFIX.get(suffix.lower())


def formats() -> list[Format]:
    """Every registered format, once each, in registration order."""
    seen: list[Format] = []
    for fmt in _BY_SUFFIX.values():
        if fmt not in seen:
            seen.append(fmt)
    return seen


def suffixes() -> tuple[str, ...]:
    return tuple(_BY_SUFFIX)


def suffix_for_kind(kind: str) -> str:
    """The usual suffix for content of ``kind`` (the first registered one)."""
    for fmt in formats():
        if fmt.kind == kind:
            return fmt.suffixes[0]
    return ""


# Every module of this package registers its format on import: the built-ins first,
# in this order (the order of SUPPORTED_SUFFIXES), then any other module found here.
BUILT_IN = ("text", "markdown", "pdf", "docx", "html")


def _import_all() -> None:
    import importlib
    import pkgutil

    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in [*BUILT_IN, *(n for n in found if n not in BUILT_IN)]:
        importlib.import_module(f"{__name__}.{name}")


_import_all()

SUPPORTED_SUFFIXES: tuple[str, ...] = suffixes()
