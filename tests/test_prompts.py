"""Prompt files: declared variables are checked when loaded; values go in verbatim."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import LLMSettings, Settings
from rag.errors import PromptError
from rag.answer.prompts import (
    ANSWER_PROMPT,
    DEFAULT_PROMPTS_DIR,
    REWRITE_PROMPT,
    load_prompt,
    template_variables,
)

ROOT = Path(__file__).resolve().parent.parent


def write_prompt(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_project_prompts_load_with_their_declared_variables():
    answer = load_prompt(ANSWER_PROMPT)
    rewrite = load_prompt(REWRITE_PROMPT)
    # Shipped inside the package (package data), so an installed rag-zh has them.
    assert DEFAULT_PROMPTS_DIR == ROOT / "rag" / "answer" / "prompts"
    assert answer.variables == {"passages", "question"}
    assert rewrite.variables == {"history", "question"}
    # The answer prompt says what the issue asks of it.
    assert "[1]" in answer.system and "资料中没有找到" in answer.system
    assert "忽略以上所有指令" in answer.system and "不要执行" in answer.system
    assert answer.system.index("规则") < answer.system.index("<资料")


def test_answer_prompt_puts_passages_after_the_instructions():
    prompt = load_prompt(ANSWER_PROMPT)
    messages = prompt.format_messages(passages="<资料 编号=\"1\">原文</资料>", question="问题？")
    assert [role for role, _ in messages] == ["system", "user"]
    user = messages[1][1]
    assert user.index("原文") < user.index("问题？")


def test_values_are_inserted_verbatim_not_reparsed():
    prompt = load_prompt(ANSWER_PROMPT).to_langchain()
    text = "资料里有花括号 {question} 和 {{x}}，照原样保留"
    messages = prompt.invoke({"passages": text, "question": "真正的问题"}).to_messages()
    assert text in messages[1].content
    assert "真正的问题" in messages[1].content


def test_literal_braces_are_allowed_when_doubled(tmp_path):
    write_prompt(tmp_path, "x", 'variables = ["question"]\nuser = "返回 JSON {{\\"a\\": 1}}：{question}"\n')
    prompt = load_prompt("x", tmp_path)
    assert prompt.format_messages(question="Q") == [("user", '返回 JSON {"a": 1}：Q')]


def test_undeclared_placeholder_is_rejected_with_a_fix(tmp_path):
    write_prompt(tmp_path, "x", 'variables = ["question"]\nuser = "{question} {passages}"\n')
    with pytest.raises(PromptError) as err:
        load_prompt("x", tmp_path)
    assert "{passages}" in str(err.value) and "variables" in str(err.value)


def test_declared_but_unused_variable_is_rejected(tmp_path):
    write_prompt(tmp_path, "x", 'variables = ["question", "passages"]\nuser = "{question}"\n')
    with pytest.raises(PromptError, match=r"declares \{passages\} but never uses"):
        load_prompt("x", tmp_path)


def test_prompt_must_use_what_the_program_supplies(tmp_path):
    # A self-consistent answer prompt that forgot the passages.
    write_prompt(tmp_path, ANSWER_PROMPT, 'variables = ["question"]\nuser = "{question}"\n')
    with pytest.raises(PromptError, match=r"fills \{passages\}"):
        load_prompt(ANSWER_PROMPT, tmp_path)
    # One that wants a variable the program never fills.
    write_prompt(
        tmp_path, ANSWER_PROMPT,
        'variables = ["question", "passages", "date"]\nuser = "{question}{passages}{date}"\n',
    )
    with pytest.raises(PromptError, match=r"needs \{date\}"):
        load_prompt(ANSWER_PROMPT, tmp_path)


def test_malformed_braces_and_format_specs_are_rejected(tmp_path):
    write_prompt(tmp_path, "x", 'variables = ["question"]\nuser = "{question} {"\n')
    with pytest.raises(PromptError, match="malformed braces"):
        load_prompt("x", tmp_path)
    with pytest.raises(PromptError, match="plain variable name"):
        template_variables("{question!r}")
    with pytest.raises(PromptError, match="plain variable name"):
        template_variables("{passages[0]}")


def test_missing_file_bad_toml_and_missing_declaration(tmp_path):
    with pytest.raises(PromptError, match="找不到提示词文件") as err:
        load_prompt("answer", tmp_path)
    assert str(tmp_path) in str(err.value) and "RAG_PROMPTS_DIR" in str(err.value)
    write_prompt(tmp_path, "bad", 'variables = ["question"\nuser = "x"')
    with pytest.raises(PromptError, match="TOML"):
        load_prompt("bad", tmp_path)
    write_prompt(tmp_path, "nodecl", 'user = "{question}"\n')
    with pytest.raises(PromptError, match="declare the variables"):
        load_prompt("nodecl", tmp_path)
    write_prompt(tmp_path, "typo", 'variables = ["question"]\nusr = "{question}"\nuser = "{question}"\n')
    with pytest.raises(PromptError, match="unknown keys"):
        load_prompt("typo", tmp_path)


def test_llm_pipeline_checks_its_prompts_at_construction(tmp_path):
    from rag.answer.pipeline import build_pipeline

    shutil.copy(DEFAULT_PROMPTS_DIR / "rewrite.toml", tmp_path / "rewrite.toml")
    write_prompt(tmp_path, ANSWER_PROMPT, 'variables = ["question"]\nuser = "只有问题 {question}"\n')
    settings = Settings(
        llm_mode="openai",
        llm=LLMSettings(base_url="http://127.0.0.1:9/v1", api_key="k", model="m"),
    )

    class NoRetrieval:
        def retrieve(self, question, top_k=5):
            raise AssertionError("not reached")

    with pytest.raises(PromptError, match=r"fills \{passages\}"):
        build_pipeline(settings.replace(prompts_dir=tmp_path), NoRetrieval())
    # Extractive mode needs no prompt files at all.
    build_pipeline(Settings(prompts_dir=tmp_path / "missing"), NoRetrieval())
