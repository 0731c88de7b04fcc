"""The 问答 tab: streamed, cited answers and the sources panel."""

from __future__ import annotations

import logging
import time

import gradio as gr

from ..errors import IndexNotFoundError, QuestionError, RagError
from ..kb import KnowledgeBase
from ..schema import Answer
from . import render

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


def _history(records: list[dict]) -> list[tuple[str, str]]:
    return [(r["question"], r["answer"].text) for r in records]


def _panel(records: list[dict]) -> str:
    sections = [
        render.render_sources(r["answer"], r["aid"], r["question"], open_=(i == len(records) - 1))
        for i, r in enumerate(records)
    ]
    return render.render_sources_panel(sections)


def build_chat_tab(kb: KnowledgeBase, default_mode: str, top_k: int, examples: list[str]) -> None:
    """The chat tab's components and events, inside the caller's ``gr.Blocks``/``gr.Tab``."""

    def respond(message: str, chat: list, records: list, k: float, mode: str):
        question = (message or "").strip()
        if not question:
            yield chat, records, gr.skip(), gr.skip(), EMPTY_HINT, ""
            return
        chat = list(chat or []) + [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "正在检索… ▌"},
        ]
        yield chat, records, gr.skip(), "", "", ""
        aid = f"a{len(records) + 1}-{int(time.time() * 1000) % 100000}"
        partial = ""
        answer: Answer | None = None
        try:
            stream = kb.assistant(mode).stream_answer(question, top_k=int(k), history=_history(records))
            for piece in stream:
                if isinstance(piece, Answer):
                    answer = piece
                    break
                partial += piece
                chat[-1] = {"role": "assistant", "content": render.render_streaming(partial)}
                yield chat, records, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except QuestionError as exc:
            chat = chat[:-2]
            yield chat, records, gr.skip(), gr.skip(), str(exc), question
            return
        except IndexNotFoundError:
            chat[-1] = {"role": "assistant", "content": f'<div class="refusal">{NO_INDEX}</div>'}
            yield chat, records, gr.skip(), gr.skip(), "", ""
            return
        except RagError as exc:
            chat[-1] = {"role": "assistant", "content": f'<div class="refusal">出错了：{exc}</div>'}
            yield chat, records, gr.skip(), gr.skip(), "", ""
            return
        except Exception:
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant",
                        "content": '<div class="refusal">内部错误：回答失败，请稍后再试（详情见服务器日志）。</div>'}
            yield chat, records, gr.skip(), gr.skip(), "", ""
            return
        if answer is None:
            chat[-1] = {"role": "assistant", "content": '<div class="refusal">没有得到回答，请重试。</div>'}
            yield chat, records, gr.skip(), gr.skip(), "", ""
            return
        records = list(records) + [{"question": question, "answer": answer, "aid": aid}]
        chat[-1] = {"role": "assistant", "content": render.render_answer(answer, aid, question)}
        rewritten = answer.query if answer.query and answer.query.strip() != question else ""
        yield chat, records, _panel(records), rewritten, "", ""

    def clear():
        return [], [], render.render_sources_panel([]), "", "", ""

    records = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="对话", height=520, elem_id="chatbot", buttons=["copy"],
                feedback_options=None, placeholder="在下方输入关于文章的问题，或点击示例问题。",
            )
            with gr.Row():
                box = gr.Textbox(
                    show_label=False, placeholder="输入问题，按回车发送", scale=5,
                    elem_id="question", autofocus=True, max_lines=4,
                )
                send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
            hint = gr.Markdown("", elem_id="answer-hint")
            with gr.Row():
                clear_btn = gr.Button("清空对话", size="sm", elem_id="clear")
            gr.Examples(examples=[[e] for e in examples], inputs=[box], label="示例问题")
            with gr.Accordion("设置", open=False, elem_id="settings"):
                k_slider = gr.Slider(1, 20, value=top_k, step=1, label="检索段落数（top-k）",
                                     elem_id="top-k")
                mode = gr.Radio(
                    choices=[(MODE_LABELS[m], m) for m in kb.modes], value=default_mode,
                    label="回答方式",
                    info=None if "openai" in kb.modes else
                    "未配置大模型：设置 OPENAI_API_KEY 和 RAG_LLM_MODEL 后可选择“大模型生成”。",
                )
                rewritten = gr.Textbox(
                    label="检索用的问题（追问时根据上下文改写）", interactive=False,
                    elem_id="rewritten",
                )
        with gr.Column(scale=2):
            gr.Markdown("### 来源")
            sources = gr.HTML(render.render_sources_panel([]), elem_id="sources")
    outputs = [chatbot, records, sources, rewritten, hint, box]
    for trigger in (box.submit, send.click):
        trigger(respond, [box, chatbot, records, k_slider, mode], outputs,
                api_visibility="undocumented", show_progress="hidden")
    clear_btn.click(clear, None, outputs, api_visibility="undocumented")
    chatbot.clear(clear, None, outputs, api_visibility="undocumented")
