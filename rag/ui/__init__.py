"""The Gradio page: one module per tab, the API endpoints, the look. ``app.py`` only wires it up."""

from __future__ import annotations

import gradio as gr

from ..kb import KnowledgeBase
from .api import register_api
from .chat import EXAMPLES, build_chat_tab
from .kb_tab import build_kb_tab
from .style import CSS, HEAD

__all__ = ["CSS", "HEAD", "build_app", "theme"]

THEME_FONTS = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]


def theme() -> gr.themes.Base:
    return gr.themes.Soft(font=THEME_FONTS, font_mono=["Noto Sans Mono CJK SC", "monospace"])


def build_app(kb: KnowledgeBase, default_mode: str = "extractive", top_k: int = 5,
              examples: list[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app over one knowledge base."""
    default_mode = default_mode if default_mode in kb.modes else "extractive"
    examples = EXAMPLES if examples is None else examples
    with gr.Blocks(title="中文文章问答") as demo:
        gr.Markdown("## 中文文章问答\n回答只来自知识库中的文章，每句话都标注来源 [n]；文章中没有答案时会明确拒答。")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                build_chat_tab(kb, default_mode, top_k, examples)
            with gr.Tab("知识库", id="kb"):
                build_kb_tab(kb, demo)
        register_api(kb, default_mode, top_k)
    return demo
