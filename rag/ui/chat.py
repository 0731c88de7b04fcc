"""The 问答 tab: streamed, cited answers, the sources panel, and a conversation kept in the browser."""

from __future__ import annotations

import hashlib
import html
import logging
import secrets
import tempfile
import time
from pathlib import Path

import gradio as gr

from ..errors import IndexNotFoundError, QuestionError, RagError
from ..schema import Answer
from . import conversation, render
from .conversation import Turn
from .workspace import Workspace

log = logging.getLogger("rag.app")

EXAMPLES = [  # about the sample corpus; the last one shows a refusal
    "东方金诚的王青为什么认为加大消费券和消费补贴发放从长远看有好处？",
    "崂山区的“1134”模式指的是什么？",
    "按照国家统计局的绝对收入标准，我国中等收入群体大概有多少人？",
    "中央经济工作会议在哪里举行？",
    "2022年世界杯足球赛的冠军是哪支球队？",
]
MODE_LABELS = {"extractive": "抽取式（直接引用原文句子）", "openai": "大模型生成（LLM）"}
EMPTY_HINT = "请输入问题后再发送。"
NO_INDEX = "还没有索引：请到“知识库”页点击“更新索引”（或在终端运行 `rag index`）。"

# The browser keeps the conversation under this localStorage key. Gradio "encrypts" a
# BrowserState with a secret that is sent to the page anyway, so it hides nothing; a
# fixed one keeps stored conversations readable after the server restarts.
STORAGE_KEY = "rag-zh-conversation"
STORAGE_SECRET = "rag-zh-browser-conversation-v1"
EXPORT_MAX_AGE_S = 3600  # export files are copied into Gradio's cache when sent; older ones are pruned
_export_dir: Path | None = None


def _messages(turns: list[Turn]) -> list[dict]:
    out = []
    for t in turns:
        out.append({"role": "user", "content": render.escape_markdown(t.question)})
        out.append({"role": "assistant", "content": render.render_answer(t.answer, t.aid, t.question)})
    return out


def _panel(turns: list[Turn]) -> str:
    sections = [
        render.render_sources(t.answer, t.aid, t.question, open_=(i == len(turns) - 1))
        for i, t in enumerate(turns)
    ]
    return render.render_sources_panel(sections)


def export_file(turns: list[Turn]) -> str | None:
    """The conversation as a Markdown file to download (None when there is nothing to export)."""
    global _export_dir
    if not turns:
        return None
    if _export_dir is None or not _export_dir.is_dir():
        _export_dir = Path(tempfile.mkdtemp(prefix="rag-zh-export-"))
    now = time.time()
    for old in _export_dir.glob("*/*.md"):
        if now - old.stat().st_mtime > EXPORT_MAX_AGE_S:
            old.unlink(missing_ok=True)
            if not any(old.parent.iterdir()):
                old.parent.rmdir()
    text = conversation.to_markdown(turns)
    folder = _export_dir / hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    folder.mkdir(exist_ok=True)
    path = folder / f"对话记录-{time.strftime('%Y%m%d-%H%M')}.md"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return str(path)


def _export_update(turns: list[Turn]):
    return gr.update(value=export_file(turns), interactive=bool(turns))


def health_banner(ws: Workspace, name: str) -> str:
    """A line above the chat when the knowledge base cannot answer, or answers from an index an older
    version built, pointing at the repair."""
    h = ws.get(name).health()
    if h.can_answer and not h.needs_rebuild:
        return ""
    kind = "kb-notice" if h.can_answer else "kb-notice kb-danger"
    role = "status" if h.can_answer else "alert"
    return (f'<div class="{kind}" role="{role}">{html.escape(h.message)}'
            "（在“知识库”页可以重建。）</div>")


def _banner_update(ws: Workspace, name: str):
    text = health_banner(ws, name)
    return gr.update(value=text, visible=bool(text))


def build_chat_tab(ws: Workspace, demo: gr.Blocks, kb_name: gr.State, default_mode: str, top_k: int,
                   examples: list[str]) -> None:
    """The chat tab's components and events, inside the caller's ``gr.Blocks``/``gr.Tab``."""

    def respond(message: str, stored: dict, k: float, mode: str, name: str):
        question = (message or "").strip()
        turns = conversation.load_turns(stored)
        skip6 = (gr.skip(),) * 6
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), EMPTY_HINT, gr.skip(), gr.skip()
            return
        chat = _messages(turns) + [
            {"role": "user", "content": render.escape_markdown(question)},
            {"role": "assistant", "content": "正在检索… ▌"},
        ]
        yield chat, gr.skip(), gr.skip(), "", "", "", gr.skip()
        aid = f"a{len(turns) + 1}-{secrets.token_hex(3)}"
        partial = ""
        answer: Answer | None = None
        try:
            stream = ws.get(name).assistant(mode).stream_answer(question, top_k=int(k),
                                                      history=conversation.history(turns))
            for piece in stream:
                if isinstance(piece, Answer):
                    answer = piece
                    break
                partial += piece
                chat[-1] = {"role": "assistant", "content": render.render_streaming(partial)}
                yield (chat,) + skip6
        except QuestionError as exc:
            yield _messages(turns), gr.skip(), gr.skip(), gr.skip(), str(exc), question, gr.skip()
            return
        except IndexNotFoundError:
            chat[-1] = {"role": "assistant", "content": f'<div class="refusal">{NO_INDEX}</div>'}
            yield (chat,) + skip6
            return
        except RagError as exc:
            chat[-1] = {"role": "assistant", "content": f'<div class="refusal">出错了：{exc}</div>'}
            yield (chat,) + skip6
            return
        except Exception:
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant",
                        "content": '<div class="refusal">内部错误：回答失败，请稍后再试（详情见服务器日志）。</div>'}
            yield (chat,) + skip6
            return
        if answer is None:
            chat[-1] = {"role": "assistant", "content": '<div class="refusal">没有得到回答，请重试。</div>'}
            yield (chat,) + skip6
            return
        turns = turns + [Turn(question, answer, aid)]
        rewritten_q = answer.query if answer.query and answer.query.strip() != question else ""
        yield (_messages(turns), conversation.dump_turns(turns), _panel(turns), rewritten_q, "", "",
               _export_update(turns))

    def restore(stored: dict, name: str):
        turns = conversation.load_turns(stored)
        return _messages(turns), _panel(turns), _export_update(turns), _banner_update(ws, name)

    def new_chat():
        return [], conversation.dump_turns([]), render.render_sources_panel([]), "", "", "", _export_update([])

    first_banner = health_banner(ws, ws.default_name)
    banner = gr.HTML(first_banner, elem_id="chat-health", visible=bool(first_banner))
    stored = gr.BrowserState(conversation.dump_turns([]), storage_key=STORAGE_KEY, secret=STORAGE_SECRET)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            chatbot = gr.Chatbot(
                label="对话", height=520, elem_id="chatbot", buttons=["copy"],
                feedback_options=None, placeholder="在下方输入关于文章的问题，或点击示例问题。",
            )
            with gr.Row():
                box = gr.Textbox(
                    label="问题", show_label=False, placeholder="输入问题，按回车发送", scale=5,
                    elem_id="question", autofocus=True, max_lines=4,
                )
                send = gr.Button("发送", variant="primary", scale=1, elem_id="send", min_width=72)
            hint = gr.Markdown("", elem_id="answer-hint")
            with gr.Row():
                new_btn = gr.Button("新对话", size="sm", elem_id="new-chat", icon=None)
                export_btn = gr.DownloadButton("导出对话（.md）", size="sm", elem_id="export", interactive=False)
            gr.Markdown("**示例问题**（点击即发送）", elem_id="examples-label")
            with gr.Row(elem_id="example-questions"):
                example_btns = [gr.Button(e, size="sm", elem_classes=["example-q"]) for e in examples]
            with gr.Accordion("设置", open=False, elem_id="settings"):
                k_slider = gr.Slider(1, 20, value=top_k, step=1, label="检索段落数（top-k）",
                                     elem_id="top-k")
                mode = gr.Radio(
                    choices=[(MODE_LABELS[m], m) for m in ws.modes], value=default_mode,
                    label="回答方式",
                    info=None if "openai" in ws.modes else
                    "未配置大模型：设置 OPENAI_API_KEY 和 RAG_LLM_MODEL 后可选择“大模型生成”。",
                )
                rewritten = gr.Textbox(
                    label="检索用的问题（追问时根据上下文改写）", interactive=False,
                    elem_id="rewritten",
                )
        with gr.Column(scale=2, min_width=300):
            gr.Markdown("### 来源")
            sources = gr.HTML(render.render_sources_panel([]), elem_id="sources")
    outputs = [chatbot, stored, sources, rewritten, hint, box, export_btn]
    # The page's own events are not API: programs use /ask and /chat (rag/ui/api.py).
    for trigger in (box.submit, send.click):
        trigger(respond, [box, stored, k_slider, mode, kb_name], outputs, api_visibility="private", show_progress="hidden")
    for btn, text in zip(example_btns, examples):
        btn.click(lambda q=text: q, None, box, queue=False, api_visibility="private").then(
            respond, [box, stored, k_slider, mode, kb_name], outputs, api_visibility="private", show_progress="hidden")
    new_btn.click(new_chat, None, outputs, api_visibility="private", show_progress="hidden")
    chatbot.clear(new_chat, None, outputs, api_visibility="private")
    demo.load(restore, [stored, kb_name], [chatbot, sources, export_btn, banner], api_visibility="private",
              show_progress="hidden")
    kb_name.change(lambda n: _banner_update(ws, n), [kb_name], banner, api_visibility="private")
