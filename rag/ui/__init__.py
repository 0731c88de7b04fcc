"""The Gradio page: one module per tab, the API endpoints, the look. ``app.py`` only wires it up.

    demo = build_app(kb, default_mode=..., top_k=...)
    demo.launch(..., **launch_options())                  # or
    gr.mount_gradio_app(fastapi_app, demo, path="/", **launch_options())

``launch_options()`` carries everything the page needs at launch/mount time (theme,
CSS, head script, Chinese i18n, footer links); both Gradio entry points take these keys.
"""

from __future__ import annotations

import gradio as gr

from ..kb import KnowledgeBase, Library
from .api import register_api
from .chat import EXAMPLES, build_chat_tab
from .kb_tab import DELETE_CACHE, build_kb_tab
from .locale import i18n
from .style import CSS, HEAD
from .workspace import Workspace

__all__ = ["CSS", "HEAD", "build_app", "launch_options", "theme"]

THEME_FONTS = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
# Footer: the API page only. Gradio's "settings" panel is a second, partly English
# 设置 beside the page's own; "gradio" is an English "built with" badge.
FOOTER_LINKS = ["api"]


def theme() -> gr.themes.Base:
    return gr.themes.Soft(font=THEME_FONTS, font_mono=["Noto Sans Mono CJK SC", "monospace"])


def launch_options() -> dict:
    """Keyword arguments for ``Blocks.launch`` or ``gr.mount_gradio_app``: the page's look and language."""
    return {"theme": theme(), "css": CSS, "head": HEAD, "i18n": i18n(), "footer_links": list(FOOTER_LINKS),
            "run_history": False}


def build_app(source: Library | KnowledgeBase, default_mode: str = "extractive", top_k: int = 5,
              examples: list[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app over a ``Library`` (create/switch/delete knowledge bases) or one ``KnowledgeBase``."""
    ws = Workspace(source)
    kb = ws.get()
    default_mode = default_mode if default_mode in kb.modes else "extractive"
    examples = EXAMPLES if examples is None else examples
    with gr.Blocks(title="中文文章问答", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("## 中文文章问答\n回答只来自知识库中的文章，每句话都标注来源 [n]；文章中没有答案时会明确拒答。")
        kb_name = gr.State(kb.name)  # the knowledge base this browser session looks at
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                build_chat_tab(ws, demo, kb_name, default_mode, top_k, examples)
            with gr.Tab("知识库", id="kb"):
                build_kb_tab(ws, demo, kb_name)
        register_api(source, default_mode, top_k)
    return demo
