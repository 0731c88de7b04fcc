"""Which knowledge base a program's question goes to: names → the shared ``KnowledgeBase``.

The programs' API (Gradio's /chat and /v1) answers from any knowledge base of the app's
``Library`` (or its one explicit knowledge base). Reading changes nothing, so no
administrator is needed. A name is checked against the knowledge bases that exist before
anything is opened — an unknown name never creates one — and gets a Chinese message that
names the existing knowledge bases and says how to create one.

Assistants are the ``Library``'s own (shared with the page, swapped after a rebuild), never
loaded per request. Their indexes stay loaded for at most ``MAX_LOADED_KBS`` knowledge
bases besides the default one: the least recently asked one beyond that is unloaded
(``Assistant.reload``: its next question loads it again).

    catalog = KbCatalog.of(library)       # one per Library, shared by /chat and /v1
    catalog.names()                       # ["default", "news"]
    kb = catalog.get("news")              # KnowledgeBaseError (Chinese) when unknown
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

from ..errors import KnowledgeBaseError

# Knowledge bases besides the default whose index stays loaded for the API. A loaded
# sample-size index (34 articles, 5.6 MB on disk) costs ~3 MB of memory, measured; one 100×
# larger about 300 MB, so four keep the API's share near 1 GB in the worst case.
MAX_LOADED_KBS = 4
NAME_SHOWN_CHARS = 60  # an unknown name is echoed at most this long
CREATE_HINT = "新建知识库：在页面的“知识库”页点“新建知识库”，或运行 rag kb create {name}（需要管理员）。"
SINGLE_HINT = ("这个应用只打开了一个知识库（RAG_CORPUS_DIR / RAG_INDEX_DIR）；"
               "要使用多个知识库，请去掉这两个变量后重启，再运行 rag kb create {name} 新建。")


def _shown(name: str) -> str:
    name = str(name)
    return name if len(name) <= NAME_SHOWN_CHARS else name[:NAME_SHOWN_CHARS] + "…"


class KbCatalog:
    """The knowledge bases a program may name, over a ``Library`` or one ``KnowledgeBase``."""

    _shared: "weakref.WeakKeyDictionary[Any, KbCatalog]" = weakref.WeakKeyDictionary()
    _shared_lock = threading.Lock()

    def __init__(self, source: Any, max_loaded: int = MAX_LOADED_KBS) -> None:
        self.source = source
        self.single = hasattr(source, "assistant")  # one KnowledgeBase rather than a Library
        self.max_loaded = int(max_loaded)
        self._recent: OrderedDict[str, Any] = OrderedDict()  # name → KnowledgeBase, most recent last
        self._lock = threading.Lock()

    @classmethod
    def of(cls, source: Any) -> "KbCatalog":
        """The catalog of ``source``, one per object, so every API shares one bound."""
        with cls._shared_lock:
            catalog = cls._shared.get(source)
            if catalog is None:
                catalog = cls._shared[source] = cls(source)
            return catalog

    @property
    def default_name(self) -> str:
        """The knowledge base used when a program names none (the app's RAG_KB, else "default")."""
        return self.source.name if self.single else self.source.default_name

    def names(self) -> list[str]:
        """The knowledge bases that exist, the default first."""
        if self.single:
            return [self.default_name]
        names = self.source.names()
        return [self.default_name] + [n for n in names if n != self.default_name]

    @property
    def modes(self) -> list[str]:
        """The answer modes (the same for every knowledge base: they come from the LLM settings)."""
        return list(self.get().modes)

    def check(self, name: str | None) -> str:
        """The knowledge base's name (None or "" → the default); KnowledgeBaseError when none has it."""
        return self._check(name)[0]

    def _check(self, name: str | None) -> tuple[str, list[str]]:
        if name is None or (isinstance(name, str) and not name.strip()):
            return self.default_name, []
        if not isinstance(name, str):
            raise KnowledgeBaseError(f"kb 必须是知识库的名称（字符串），收到的是 {_shown(repr(name))}。")
        name = name.strip()
        names = self.names()
        if name in names:
            return name, names
        hint = SINGLE_HINT if self.single or getattr(self.source, "explicit", False) else CREATE_HINT
        raise KnowledgeBaseError(
            f"知识库“{_shown(name)}”不存在。现有知识库：{'、'.join(names)}。"
            + hint.format(name=name if len(name) <= NAME_SHOWN_CHARS else "新名称")
        )

    def get(self, name: str | None = None) -> Any:
        """The shared ``KnowledgeBase`` called ``name`` (default: the default one); see ``check``."""
        name, names = self._check(name)
        if self.single:
            return self.source
        kb = self.source.get(name)
        if name != self.default_name:
            self._touch(name, kb, names)
        return kb

    def loaded(self) -> list[str]:
        """Knowledge bases besides the default the API keeps loaded, least recently asked first."""
        with self._lock:
            return list(self._recent)

    def _touch(self, name: str, kb: Any, existing: list[str]) -> None:
        with self._lock:
            for gone in [n for n in self._recent if n not in existing]:  # deleted since: let go of it
                del self._recent[gone]
            self._recent[name] = kb
            self._recent.move_to_end(name)
            evicted = []
            while len(self._recent) > self.max_loaded:
                evicted.append(self._recent.popitem(last=False)[1])
        for old in evicted:  # outside the lock: reload() waits while the index is being loaded
            for mode in old.modes:
                old.assistant(mode).reload()
