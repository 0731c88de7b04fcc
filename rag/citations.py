"""Moved to ``rag.answer.citations``; this name stays importable until its last users move."""

from .answer.citations import *  # noqa: F401,F403
from .answer.citations import UNSUPPORTED_MARK, check_citations, normalize_marks, support_score  # noqa: F401
