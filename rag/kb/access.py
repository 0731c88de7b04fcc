"""Who may change a knowledge base: the administrator check every changing operation runs.

Reading (questions, the article list, build status) is open. Changing (upload, delete,
rebuild, create or delete a knowledge base) needs an administrator, checked here, inside
the knowledge-base methods, so a UI handler or HTTP route that forgets cannot bypass it:

- ``RAG_ADMIN_PASSWORD``: the actor must carry that password (compared in constant time);
- ``RAG_AUTH=user:password``: Gradio's own login guards the whole app; the logged-in user
  is the administrator (the password also works when both are set);
- neither, on a loopback address: the person at this machine is the administrator;
- neither, on any other address: changes are disabled, and the message says how to enable them.

The command line and Python callers that own the files use ``AccessPolicy.local()``.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

from ..config import Settings
from ..errors import ConfigError, PermissionDenied

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

ENABLE_HINT = (
    "设置环境变量 RAG_ADMIN_PASSWORD=你的密码（或用 RAG_AUTH=用户名:密码 给整个应用加登录）后重启应用"
)


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; False for 0.0.0.0, :: and every other address."""
    host = (host or "").strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``RAG_AUTH=user:password`` as (user, password); ConfigError for any other shape."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ConfigError("RAG_AUTH 的格式应为 用户名:密码（例如 RAG_AUTH=admin:一个长密码）。")
    return user.strip(), password


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: the password typed in the UI and/or the user Gradio logged in.

    Build it from the request in the handler: ``Actor(password=typed, username=request.username)``.
    """

    password: str | None = field(default=None, repr=False)
    username: str | None = None

    @classmethod
    def from_request(cls, request=None, password: str | None = None) -> "Actor":
        """From a ``gradio.Request`` (its ``username`` when Gradio auth is on) and a typed password."""
        return cls(password=password or None, username=getattr(request, "username", None) or None)


ANONYMOUS = Actor()


@dataclass(frozen=True)
class AccessPolicy:
    """The rule for changes in one running program; see the module docstring."""

    admin_password: str | None = field(default=None, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    trusted: bool = False  # the command line / Python: the caller owns the files

    @classmethod
    def from_settings(cls, settings: Settings, host: str = "127.0.0.1") -> "AccessPolicy":
        """The app's policy: passwords from the settings, ``host`` = the address the app listens on."""
        return cls(admin_password=settings.admin_password, auth=parse_auth(settings.auth), host=host)

    @classmethod
    def local(cls) -> "AccessPolicy":
        """Every change allowed: for the command line and Python callers."""
        return cls(trusted=True)

    @property
    def needs_password(self) -> bool:
        """True when the UI should ask for the administrator password."""
        return not self.trusted and self.admin_password is not None

    @property
    def changes_enabled(self) -> bool:
        """False when nobody can change anything (non-loopback address without a password)."""
        return self.trusted or bool(self.admin_password or self.auth) or is_loopback(self.host)

    def notice(self) -> str:
        """One Chinese sentence for the UI about changing; empty when anyone may change."""
        if not self.changes_enabled:
            return (f"修改知识库已停用：应用在 {self.host} 上对外监听，且没有设置管理员密码。"
                    f"要启用修改，请{ENABLE_HINT}，或只在 127.0.0.1 上监听。")
        if self.needs_password:
            return "上传、删除、重建和新建知识库需要管理员密码（RAG_ADMIN_PASSWORD）。"
        return ""

    def allows(self, actor: Actor | None) -> bool:
        try:
            self.check(actor)
        except PermissionDenied:
            return False
        return True

    def check(self, actor: Actor | None, action: str = "修改知识库") -> None:
        """Return when ``actor`` may change; PermissionDenied (Chinese, says how) otherwise."""
        if self.trusted:
            return
        actor = actor or ANONYMOUS
        if self.auth is not None and actor.username and _same(actor.username, self.auth[0]):
            return
        if self.admin_password is not None:
            if actor.password and _same(actor.password, self.admin_password):
                return
            raise PermissionDenied(
                f"{action}需要管理员密码：请在“管理员密码”框中输入 RAG_ADMIN_PASSWORD 设置的密码后重试。"
            )
        if self.auth is not None:
            raise PermissionDenied(f"{action}需要以管理员身份登录（RAG_AUTH 设置的用户）。")
        if is_loopback(self.host):
            return
        raise PermissionDenied(
            f"{action}已停用：应用在 {self.host} 上对外监听，且没有设置管理员密码。"
            f"要启用修改，请{ENABLE_HINT}，或只在 127.0.0.1 上监听。"
        )
