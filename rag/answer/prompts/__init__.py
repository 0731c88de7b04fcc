"""Prompt templates, shipped as TOML files beside this module, checked when loaded.

A prompt file is TOML with ``variables`` (the names it uses), ``system`` and
``user`` (templates with ``{name}`` placeholders; ``{{`` and ``}}`` for literal
braces) and an optional ``description``. Loading checks that the placeholders
match the declared variables and that the caller's variables match both, so a
typo in a prompt edit fails at start-up with a message that says how to fix it,
not with a KeyError mid-answer.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from ...errors import PromptError
from ...schema import Passage

# The packaged prompts (package data); RAG_PROMPTS_DIR points at a folder of edited copies.
DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent
ANSWER_PROMPT = "answer"
REWRITE_PROMPT = "rewrite"
# What the code supplies to each prompt it uses.
EXPECTED_VARIABLES = {
    ANSWER_PROMPT: frozenset({"passages", "question"}),
    REWRITE_PROMPT: frozenset({"history", "question"}),
}


def template_variables(template: str, where: str = "template") -> set[str]:
    """The ``{name}`` placeholders of a str.format template.

    Raises PromptError for malformed braces or placeholders with formatting
    (``{x.y}``, ``{x[0]}``, ``{x!r}``, ``{x:>3}``) that LangChain would not fill.
    """
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PromptError(
            f"{where}: malformed braces ({exc}); write literal braces as {{{{ and }}}}"
        ) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PromptError(
                f"{where}: placeholder {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not a plain variable name; use {{name}}, "
                "or write literal braces as {{ and }}"
            )
        names.add(field)
    return names


@dataclass(frozen=True)
class PromptTemplate:
    """A checked chat prompt: a system and a user message with declared variables."""

    name: str
    variables: frozenset[str]
    system: str
    user: str
    description: str = ""
    path: Path | None = None

    def __post_init__(self) -> None:
        where = str(self.path or self.name)
        if not self.user.strip():
            raise PromptError(f"{where}: the 'user' template is empty; write the user message")
        used = template_variables(self.system, f"{where} [system]") | template_variables(
            self.user, f"{where} [user]"
        )
        undeclared = used - self.variables
        unused = self.variables - used
        if undeclared:
            raise PromptError(
                f"{where}: uses {_names(undeclared)} but does not declare them; add them to "
                f"variables = [...] or remove the placeholders (literal braces: {{{{ }}}})"
            )
        if unused:
            raise PromptError(
                f"{where}: declares {_names(unused)} but never uses them; put "
                f"{' '.join('{' + v + '}' for v in sorted(unused))} into the system or user "
                "template, or remove them from variables"
            )

    def check_supplies(self, supplied: set[str] | frozenset[str]) -> None:
        """Raise PromptError unless the template uses exactly the ``supplied`` variables."""
        where = str(self.path or self.name)
        missing = set(supplied) - self.variables
        extra = self.variables - set(supplied)
        if missing:
            raise PromptError(
                f"{where}: the program fills {_names(missing)} but the prompt does not use "
                f"them; add the placeholders and list them in variables = [...]"
            )
        if extra:
            raise PromptError(
                f"{where}: the prompt needs {_names(extra)} but the program only fills "
                f"{_names(set(supplied))}; remove those placeholders from the prompt"
            )

    def format_messages(self, **values: str) -> list[tuple[str, str]]:
        """The filled (role, content) messages; values are inserted verbatim, never re-parsed."""
        self.check_supplies(set(values))
        messages = []
        if self.system.strip():
            messages.append(("system", self.system.format(**values)))
        messages.append(("user", self.user.format(**values)))
        return messages

    def to_langchain(self) -> ChatPromptTemplate:
        """The same prompt as a LangChain ChatPromptTemplate (f-string templates)."""
        messages = []
        if self.system.strip():
            messages.append(("system", self.system))
        messages.append(("human", self.user))
        return ChatPromptTemplate.from_messages(messages, template_format="f-string")


def _names(names) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))


def load_prompt(
    name: str,
    prompts_dir: str | Path | None = None,
    expects: set[str] | frozenset[str] | None = None,
) -> PromptTemplate:
    """Load and check ``<prompts_dir>/<name>.toml``.

    ``expects`` defaults to what the program supplies for the known prompts
    (``answer``, ``rewrite``); the template must use exactly those variables.
    """
    directory = Path(prompts_dir) if prompts_dir else DEFAULT_PROMPTS_DIR
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise PromptError(
            f"找不到提示词文件 {path}：把 RAG_PROMPTS_DIR 指向放有 {name}.toml 的文件夹"
            f"（可从 {DEFAULT_PROMPTS_DIR / (name + '.toml')} 复制一份修改），或取消 RAG_PROMPTS_DIR "
            "使用自带的提示词"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path} is not valid UTF-8 TOML ({exc}); fix the syntax") from None
    variables = data.get("variables")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise PromptError(
            f'{path}: declare the variables the prompt uses, e.g. variables = ["question"]'
        )
    for key in ("system", "user"):
        if not isinstance(data.get(key, ""), str):
            raise PromptError(f"{path}: '{key}' must be a string (use '''…''' for several lines)")
    unknown = set(data) - {"variables", "system", "user", "description"}
    if unknown:
        raise PromptError(
            f"{path}: unknown keys {sorted(unknown)}; a prompt file holds only "
            "description, variables, system and user"
        )
    prompt = PromptTemplate(
        name=name,
        variables=frozenset(variables),
        system=data.get("system", ""),
        user=data.get("user", ""),
        description=data.get("description", ""),
        path=path,
    )
    if expects is None:
        expects = EXPECTED_VARIABLES.get(name)
    if expects is not None:
        prompt.check_supplies(expects)
    return prompt


# --- prompt inputs ------------------------------------------------------------

_FENCE_RE = re.compile(r"<(/?)\s*资料")


def defang(text: str) -> str:
    """Text that cannot close or open a passage fence (``<资料`` → ``＜资料``)."""
    return _FENCE_RE.sub(lambda m: "＜" + m.group(1) + "资料", text)


def format_passages(passages: list[Passage]) -> str:
    """Passages numbered [1]..[k] with their titles, each fenced as data."""
    blocks = []
    for n, p in enumerate(passages, 1):
        title = defang(p.title).replace('"', "＂")
        source = defang(p.source).replace('"', "＂")
        blocks.append(
            f'<资料 编号="{n}" 标题="《{title}》" 文件="{source}">\n{defang(p.text)}\n</资料>'
        )
    return "\n\n".join(blocks)
