"""All knowledge bases of one program: list, get (switch), create, delete (two steps).

With RAG_CORPUS_DIR / RAG_INDEX_DIR set the library holds exactly that one knowledge base
(``explicit``) and cannot create or delete others.
"""

from __future__ import annotations

import threading

from ..config import DEFAULT_KB, Settings, check_kb_name
from ..errors import KnowledgeBaseError
from .access import AccessPolicy, Actor
from .base import KnowledgeBase
from .confirm import CONFIRM_TTL_SECONDS, Confirmation, Confirmations
from .home import create_kb, home_of, list_names, read_meta, remove_kb
from .uploads import DEFAULT_MAX_UPLOAD_BYTES

EXPLICIT_HINT = "已用 RAG_CORPUS_DIR / RAG_INDEX_DIR 指定了单个知识库；要管理多个知识库，请去掉这两个变量。"


class Library:
    """The knowledge bases under RAG_HOME (or the one explicit knowledge base).

    ``get(name)`` returns the shared ``KnowledgeBase`` object for ``name`` (a UI session
    "switches" by remembering the name); ``create``/``delete`` need an administrator.
    """

    def __init__(self, settings: Settings, *, policy: AccessPolicy | None = None,
                 max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
        self.settings = settings
        self.policy = policy if policy is not None else AccessPolicy.from_settings(settings)
        self.max_upload_bytes = int(max_upload_bytes)
        self.explicit = settings.kb is None
        self.home = home_of(settings)
        self._kbs: dict[str, KnowledgeBase] = {}
        self._lock = threading.Lock()
        self._confirmations = Confirmations()

    @property
    def default_name(self) -> str:
        """The knowledge base used when none is named (RAG_KB, else "default")."""
        return self.settings.kb or DEFAULT_KB

    def names(self) -> list[str]:
        return [self.default_name] if self.explicit else list_names(self.home)

    def infos(self) -> list[dict]:
        """One dict per knowledge base: name, created_at, default, loaded, building (loads no index)."""
        out = []
        for name in self.names():
            meta = {} if self.explicit else read_meta(self.home, name)
            kb = self._kbs.get(name)
            out.append({
                "name": name, "created_at": meta.get("created_at", ""), "default": name == self.default_name,
                "loaded": kb is not None, "building": bool(kb and kb.build_status().running),
            })
        return out

    def get(self, name: str | None = None) -> KnowledgeBase:
        """The knowledge base ``name`` (default: ``default_name``); seeds the default on first use."""
        name = self.default_name if name in (None, "") else check_kb_name(name)
        with self._lock:
            kb = self._kbs.get(name)
            if kb is None:
                if self.explicit and name != self.default_name:
                    raise KnowledgeBaseError(EXPLICIT_HINT)
                settings = self.settings if self.explicit else self.settings.for_kb(name)
                kb = KnowledgeBase(settings, policy=self.policy, max_upload_bytes=self.max_upload_bytes, name=name)
                self._kbs[name] = kb
            return kb

    def create(self, name: str, actor: Actor | None) -> KnowledgeBase:
        """A new, empty knowledge base (administrator only)."""
        self.policy.check(actor, "新建知识库")
        if self.explicit:
            raise KnowledgeBaseError(EXPLICIT_HINT)
        create_kb(self.home, name)
        return self.get(name)

    def request_delete(self, name: str, actor: Actor | None) -> Confirmation:
        """Step one of deleting a knowledge base: a token to pass to ``delete``."""
        self.policy.check(actor, "删除知识库")
        name = self._deletable(name)
        return self._confirmations.issue(
            "delete-kb", name,
            f"确定要删除知识库“{name}”及其全部文章和索引吗？此操作不能撤销。请在 {CONFIRM_TTL_SECONDS:.0f} 秒内确认。",
        )

    def delete(self, name: str, actor: Actor | None, *, confirm: str | None) -> None:
        """Step two: delete knowledge base ``name`` and its files (``confirm`` from ``request_delete``)."""
        self.policy.check(actor, "删除知识库")
        name = self._deletable(name)
        if not self._confirmations.redeem(confirm, "delete-kb", name):
            raise KnowledgeBaseError("删除知识库需要确认：确认已过期或无效，没有删除任何内容。请重新点击删除并确认。")
        with self._lock:
            kb = self._kbs.pop(name, None)
        if kb is not None:
            kb.close()
        remove_kb(self.home, name)

    def _deletable(self, name: str) -> str:
        if self.explicit:
            raise KnowledgeBaseError(EXPLICIT_HINT)
        name = check_kb_name(name)
        if name == DEFAULT_KB:
            raise KnowledgeBaseError("默认知识库不能删除；可以删除其中的文章。")
        if name not in self.names():
            raise KnowledgeBaseError(f"知识库 {name!r} 不存在。")
        return name
