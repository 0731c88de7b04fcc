"""The browser app: chat with cited answers, and knowledge-base management.

    python app.py                     # http://127.0.0.1:7860 on the sample corpus
    python app.py --host 0.0.0.0 --port 8080
    RAG_HOST=0.0.0.0 RAG_PORT=8080 python app.py

Settings come from the environment once (``Settings.from_env()``: RAG_INDEX_DIR,
RAG_CORPUS_DIR, OPENAI_* ...); RAG_UPLOAD_MAX_MB caps uploads (default 10).
``Client(url).predict("问题", api_name="/ask")`` returns the answer with its sources.
"""

import argparse
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline machine: no telemetry
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.errors import ConfigError, IndexNotFoundError, QuestionError, RagError  # noqa: E402
from rag.kb import DEFAULT_MAX_UPLOAD_BYTES, KnowledgeBase  # noqa: E402
from rag.schema import Answer  # noqa: E402
from rag import ui_render  # noqa: E402

log = logging.getLogger("rag.app")

EXAMPLES = [  # about the sample corpus; the last one shows a refusal
    "东方金诚的王青为什么认为加大消费券和消费补贴发放从长远看有好处？",
    "崂山区的“1134”模式指的是什么？",
    "按照国家统计局的绝对收入标准，我国中等收入群体大概有多少人？",
    "中央经济工作会议在哪里举行？",
    "2022年世界杯足球赛的冠军是哪支球队？",
]
MODE_LABELS = {"extractive": "抽取式（直接引用原文句子）", "openai": "大模型生成（LLM）"}
# Deleting removes the file from disk: ask first, in the browser (cancel sends no file).
CONFIRM_DELETE_JS = """(name) => (name && window.confirm('确定要从知识库删除 ' + name + ' 吗？文件会从语料目录中删除。'))
    ? name : null"""
EMPTY_HINT = "请输入问题后再发送。"
NO_INDEX = "还没有索引：请到“知识库”页点击“更新索引”（或在终端运行 `rag index`）。"

CSS = """
#answer-hint { color: var(--body-text-color-subdued); font-size: 0.9em; min-height: 1.2em; }
#answer-hint p { margin: 0; }
.refusal { background: #fff5f5; border-left: 4px solid #dc2626; color: #7f1d1d;
           padding: 8px 12px; border-radius: 6px; }
.answer-notes { color: var(--body-text-color-subdued); font-size: 0.82em; margin-top: 6px; }
.unsupported { color: #b45309; cursor: help; }
a.cite { text-decoration: none; font-weight: 600; font-size: 0.8em; vertical-align: super;
         color: #1d4ed8; padding: 0 1px; cursor: pointer; }
a.cite:hover { text-decoration: underline; }
#sources { max-height: 680px; overflow-y: auto; }
.src-empty, .src-none { color: var(--body-text-color-subdued); font-size: 0.9em; padding: 6px 0; }
.src-group { margin-bottom: 10px; }
.src-group > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
            padding: 10px 12px; margin: 8px 0; background: var(--background-fill-primary); }
.src-card.flash { animation: src-flash 1.8s ease-out; }
@keyframes src-flash { 0% { background: #fef08a; } 100% { background: var(--background-fill-primary); } }
.src-title { font-weight: 600; }
.src-n { color: #1d4ed8; margin-right: 4px; }
.src-meta { color: var(--body-text-color-subdued); font-size: 0.82em; margin: 2px 0 6px; }
.src-text { line-height: 1.75; font-size: 0.92em; max-height: 240px; overflow-y: auto; }
.src-text mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.kb-msg { padding: 2px 0; }
.kb-ok { color: #15803d; }
.kb-error { color: #b91c1c; font-weight: 600; }
.kb-warn { color: #b45309; }
.kb-info { color: var(--body-text-color-subdued); }
.refusal-tag { display: inline-block; font-size: 0.78em; background: #dc2626; color: #fff;
               border-radius: 4px; padding: 0 6px; margin-right: 6px; }
"""

# [n] links jump to their source card: open its answer group, scroll, flash.
HEAD = """
<script>
document.addEventListener('click', function (e) {
  var a = e.target && e.target.closest ? e.target.closest('a.cite') : null;
  if (!a) return;
  var id = (a.getAttribute('href') || '').replace(/^#/, '');
  var el = id ? document.getElementById(id) : null;
  e.preventDefault();
  e.stopPropagation();
  if (!el) return;
  var group = el.closest('details');
  if (group) group.open = true;
  // Scroll inside the sources panel; move the page only if the panel is out of view.
  var panel = document.getElementById('sources');
  if (panel && panel.contains(el)) {
    var r = panel.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight - 100) panel.scrollIntoView({block: 'start'});
    panel.scrollTop += el.getBoundingClientRect().top - panel.getBoundingClientRect().top - 8;
  } else {
    el.scrollIntoView({block: 'center'});
  }
  el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
}, true);
</script>
"""


# ---------------------------------------------------------------- helpers

def _articles_table(kb: KnowledgeBase) -> list[list]:
    rows = []
    for r in kb.articles():
        rows.append([r["title"], r["source"], r.get("publication", ""), r["chunks"], _local_time(r["indexed_at"])])
    return rows


def _local_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return stamp or ""


def _kb_summary(kb: KnowledgeBase) -> str:
    rows = kb.articles()
    if not rows:
        return NO_INDEX if not kb.has_index() else "索引为空：请上传文章。"
    files = len({r["source"] for r in rows})
    return f"共 {len(rows)} 篇文章，来自 {files} 个文件，{sum(r['chunks'] for r in rows)} 个段落。"


def _progress_callback(progress: gr.Progress):
    labels = {"load": "读取文件", "embed": "计算向量", "write": "写入索引"}

    def report(stage: str, done: int, total: int) -> None:
        progress((done, max(total, 1)), desc=labels.get(stage, stage), unit="项")

    return report


def _status_error(exc: Exception) -> str:
    return ui_render.render_status([("error", str(exc))])


def _history(records: list[dict]) -> list[tuple[str, str]]:
    return [(r["question"], r["answer"].text) for r in records]


def _panel(records: list[dict]) -> str:
    sections = [
        ui_render.render_sources(r["answer"], r["aid"], r["question"], open_=(i == len(records) - 1))
        for i, r in enumerate(records)
    ]
    return ui_render.render_sources_panel(sections)


# ---------------------------------------------------------------- the app

def build_app(kb: KnowledgeBase, default_mode: str = "extractive", top_k: int = 5,
              examples: list[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app over one knowledge base."""
    default_mode = default_mode if default_mode in kb.modes else "extractive"
    examples = EXAMPLES if examples is None else examples

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
                chat[-1] = {"role": "assistant", "content": ui_render.render_streaming(partial)}
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
        chat[-1] = {"role": "assistant", "content": ui_render.render_answer(answer, aid, question)}
        rewritten = answer.query if answer.query and answer.query.strip() != question else ""
        yield chat, records, _panel(records), rewritten, "", ""

    def clear():
        return [], [], ui_render.render_sources_panel([]), "", "", ""

    def upload(files, progress=gr.Progress()):
        if not files:
            return ui_render.render_status([("error", "请先选择要上传的文件。")]), gr.skip(), gr.skip(), None
        batch = [(Path(p).name, Path(p)) for p in (f if isinstance(f, str) else f.name for f in files)]
        try:
            change = kb.upload(batch, progress=_progress_callback(progress))
        except RagError as exc:
            return _status_error(exc), gr.skip(), gr.skip(), None
        return ui_render.render_status(change.lines), _articles_table(kb), gr.update(choices=kb.files(), value=None), None

    def delete(source, progress=gr.Progress()):
        if not source:
            return (ui_render.render_status([("info", "没有删除任何文件（未选择文件，或已取消）。")]),
                    gr.skip(), gr.skip())
        try:
            change = kb.delete(source, progress=_progress_callback(progress))
        except RagError as exc:
            return _status_error(exc), gr.skip(), gr.skip()
        return ui_render.render_status(change.lines), _articles_table(kb), gr.update(choices=kb.files(), value=None)

    def rebuild(full: bool, progress=gr.Progress()):
        try:
            change = kb.rebuild(full=full, progress=_progress_callback(progress))
        except RagError as exc:
            return _status_error(exc), gr.skip(), gr.skip()
        return ui_render.render_status(change.lines), _articles_table(kb), gr.update(choices=kb.files(), value=None)

    def update(progress=gr.Progress()):
        return rebuild(False, progress)

    def rebuild_all(progress=gr.Progress()):
        return rebuild(True, progress)

    def refresh():
        return _kb_summary(kb), _articles_table(kb), gr.update(choices=kb.files(), value=None)

    def ask(question: str) -> str:
        """Answer one question from the articles: the answer text with [n] marks, then its numbered sources (Markdown)."""
        try:
            answer = kb.assistant(default_mode).answer(question, top_k=top_k)
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return ui_render.render_plain(answer)

    def articles() -> list[dict]:
        """The indexed articles: title, source file, publication, number of chunks, when indexed."""
        return kb.articles()

    with gr.Blocks(title="中文文章问答") as demo:
        gr.Markdown("## 中文文章问答\n回答只来自知识库中的文章，每句话都标注来源 [n]；文章中没有答案时会明确拒答。")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
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
                        sources = gr.HTML(ui_render.render_sources_panel([]), elem_id="sources")
                outputs = [chatbot, records, sources, rewritten, hint, box]
                for trigger in (box.submit, send.click):
                    trigger(respond, [box, chatbot, records, k_slider, mode], outputs,
                            api_visibility="undocumented", show_progress="hidden")
                clear_btn.click(clear, None, outputs, api_visibility="undocumented")
                chatbot.clear(clear, None, outputs, api_visibility="undocumented")

            with gr.Tab("知识库", id="kb"):
                summary = gr.Markdown(_kb_summary(kb), elem_id="kb-summary")
                table = gr.Dataframe(
                    value=_articles_table(kb),
                    headers=["标题", "文件", "来源", "段落数", "索引时间"],
                    datatype=["str", "str", "str", "number", "str"],
                    interactive=False, wrap=True, elem_id="kb-table", max_height=420,
                )
                status = gr.HTML("", elem_id="kb-status")
                with gr.Row():
                    with gr.Column():
                        files = gr.File(
                            label=f"上传文章（.txt .md .pdf .docx .html，每个不超过 "
                                  f"{kb.max_upload_bytes / 1048576:g} MB）",
                            file_count="multiple", elem_id="upload",
                        )
                        upload_btn = gr.Button("上传并加入索引", variant="primary", elem_id="upload-btn")
                    with gr.Column():
                        victim = gr.Dropdown(choices=kb.files(), value=None, label="删除文章文件",
                                             elem_id="delete-choice", allow_custom_value=False)
                        delete_btn = gr.Button("删除所选文件", variant="stop", elem_id="delete-btn")
                        with gr.Row():
                            update_btn = gr.Button("更新索引", elem_id="update-btn")
                            full_btn = gr.Button("完全重建", elem_id="rebuild-btn")
                # Each action first clears the previous message, so a new one is always this action's.
                kb_out = [status, table, victim]
                for btn, fn, inputs, outs, js in (
                    (upload_btn, upload, [files], kb_out + [files], None),
                    (delete_btn, delete, [victim], kb_out, CONFIRM_DELETE_JS),
                    (update_btn, update, None, kb_out, None),
                    (full_btn, rebuild_all, None, kb_out, None),
                ):
                    btn.click(lambda: "", None, status, queue=False, api_visibility="private").then(
                        fn, inputs, outs, js=js, api_visibility="undocumented")
                demo.load(refresh, None, [summary, table, victim], api_visibility="undocumented")
                table.change(lambda: _kb_summary(kb), None, [summary], api_visibility="undocumented")

        gr.api(ask, api_name="ask")
        gr.api(articles, api_name="articles")
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    p = argparse.ArgumentParser(description="Chat with the articles in your browser.")
    p.add_argument("--host", default=env.get("RAG_HOST") or "127.0.0.1", help="address to listen on (RAG_HOST)")
    p.add_argument("--port", type=int, default=int(env.get("RAG_PORT") or 7860), help="port (RAG_PORT)")
    p.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    p.add_argument("--concurrency", type=int, default=4, help="questions answered at the same time")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
        max_mb = float(os.environ.get("RAG_UPLOAD_MAX_MB") or DEFAULT_MAX_UPLOAD_BYTES / 1048576)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kb = KnowledgeBase(settings, max_upload_bytes=int(max_mb * 1048576))
    started = time.perf_counter()
    if kb.has_index():
        try:
            kb.warm()
            log.info("index and model loaded in %.1fs", time.perf_counter() - started)
        except RagError as exc:
            log.warning("%s", exc)
    else:
        log.warning("No index in %s: build it on the 知识库 tab or with `rag index`.", settings.index_dir)
    demo = build_app(kb, default_mode=settings.llm_mode, top_k=settings.top_k)
    demo.queue(default_concurrency_limit=args.concurrency)
    demo.launch(
        server_name=args.host, server_port=args.port, share=args.share,
        footer_links=["api", "settings"], show_error=True,
        max_file_size=kb.max_upload_bytes * 5,  # our own check gives the clear message below this
        theme=gr.themes.Soft(font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"],
                             font_mono=["Noto Sans Mono CJK SC", "monospace"]),
        css=CSS, head=HEAD,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
