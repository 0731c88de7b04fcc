"""The project's errors. Every message says what went wrong and how to fix it."""

from __future__ import annotations


class RagError(Exception):
    """Base class: the CLI and the UI show the message, never a traceback."""


class ConfigError(RagError):
    """A setting or environment variable has a value the project cannot use."""


class LoadError(RagError):
    """A file could not be read as text (binary, empty, undecodable, unsupported)."""


class IndexNotFoundError(RagError):
    """There is no index where one was expected."""


class IndexMismatchError(RagError):
    """The index was built with other settings (model, chunker, format version)."""


class IndexCorruptError(RagError):
    """Index files are missing, truncated or inconsistent with the manifest."""


class PromptError(RagError):
    """A prompt template is missing or does not declare the variables it uses."""


class LLMError(RagError):
    """The language model could not be reached or answered with an error."""


class QuestionSetError(RagError):
    """The question file is missing or a line does not follow the question-set format."""


class QuestionError(RagError, ValueError):
    """The question is empty or unusable. Also a ValueError, as callers expect."""


class IndexWriteError(RagError):
    """The index directory cannot be written (permissions, read-only disk, not a directory)."""


class StoreError(RagError):
    """The vector store cannot be used: unreachable server, missing extra, incompatible collection."""


class PermissionDenied(RagError):
    """A change to a knowledge base was refused: no administrator, or changes are disabled."""


class KnowledgeBaseError(RagError):
    """A knowledge base is missing, already exists, is busy or cannot be changed."""


class UploadError(RagError):
    """An uploaded file was refused; the message says why and what to do."""


class EvalOutputError(RagError):
    """`rag eval` cannot write its report where it was asked (a directory, a missing or read-only place)."""
