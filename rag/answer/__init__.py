"""Answering a question: validate → rewrite → retrieve → judge → generate → check citations.

``rag.answer`` is both this package and the one-call API: ``rag.answer("问题")``
still answers with the process-wide assistant (the package module is callable),
and ``rag.answer.pipeline`` etc. are its modules.
"""

from __future__ import annotations

import sys
import types


class _CallableModule(types.ModuleType):
    """``rag.answer(question, top_k=None, history=None)`` → ``rag.default_assistant().answer(...)``.

    Importing a submodule of ``rag.answer`` makes Python bind the package to the
    ``answer`` attribute of ``rag``, replacing the function of the same name that
    callers have always used; calling the package keeps that API working.
    """

    def __call__(self, question, top_k=None, history=None):
        from .. import default_assistant

        return default_assistant().answer(question, top_k=top_k, history=history)


sys.modules[__name__].__class__ = _CallableModule
