"""What the page works on: a ``Library`` of knowledge bases, or a single ``KnowledgeBase``.

Each browser session remembers the name of the knowledge base it looks at (switching is
per session; nobody else's page changes). Access checks are not made here: every changing
method of ``rag.kb`` checks the ``Actor`` itself, on the server.
"""

from __future__ import annotations

from ..config import DEFAULT_KB
from ..kb import Actor, Confirmation, KnowledgeBase, Library
from ..kb.base import inside_checkout

SINGLE_HINT = "这个应用只打开了一个知识库（RAG_CORPUS_DIR / RAG_INDEX_DIR）；要管理多个知识库，请去掉这两个变量后重启。"


class Workspace:
    """The knowledge bases the page can show, by name."""

    def __init__(self, source: Library | KnowledgeBase) -> None:
        if isinstance(source, Library):
            self.library: Library | None = source
            self._single: KnowledgeBase | None = None
        else:
            self.library = None
            self._single = source

    @property
    def multi(self) -> bool:
        """True when knowledge bases can be created, switched and deleted."""
        return self.library is not None and not self.library.explicit

    @property
    def default_name(self) -> str:
        if self.library is not None:
            return self.library.default_name
        return self._single.name if getattr(self._single, "name", None) else DEFAULT_KB

    def names(self) -> list[str]:
        return self.library.names() if self.library is not None else [self.default_name]

    def get(self, name: str | None = None) -> KnowledgeBase:
        if self.library is not None:
            return self.library.get(name or None)
        return self._single

    @property
    def modes(self) -> list[str]:
        return self.get().modes

    def changes_possible(self, kb: KnowledgeBase) -> bool:
        """Whether changing buttons are worth enabling (someone with the right credentials could change)."""
        return kb.policy.changes_enabled and not inside_checkout(kb.corpus_dir)

    def create(self, name: str, actor: Actor | None) -> KnowledgeBase:
        if self.library is None:
            from ..errors import KnowledgeBaseError

            raise KnowledgeBaseError(SINGLE_HINT)
        return self.library.create(name, actor)

    def request_delete(self, name: str, actor: Actor | None) -> Confirmation:
        if self.library is None:
            from ..errors import KnowledgeBaseError

            raise KnowledgeBaseError(SINGLE_HINT)
        return self.library.request_delete(name, actor)

    def delete(self, name: str, actor: Actor | None, confirm: str | None) -> None:
        if self.library is None:
            from ..errors import KnowledgeBaseError

            raise KnowledgeBaseError(SINGLE_HINT)
        self.library.delete(name, actor, confirm=confirm)
