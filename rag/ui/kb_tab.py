"""The 知识库 tab: list, upload, delete and rebuild the articles."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import gradio as gr

from ..errors import RagError
from ..kb import KnowledgeBase
from . import render
from .chat import NO_INDEX

# Deleting removes the file from disk: ask first, in the browser (cancel sends no file).
CONFIRM_DELETE_JS = """(name) => (name && window.confirm('确定要从知识库删除 ' + name + ' 吗？文件会从语料目录中删除。'))
    ? name : null"""


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
    return render.render_status([("error", str(exc))])


def build_kb_tab(kb: KnowledgeBase, demo: gr.Blocks) -> None:
    """The knowledge-base tab's components and events, inside the caller's ``gr.Tab``."""

    def upload(files, progress=gr.Progress()):
        if not files:
            return render.render_status([("error", "请先选择要上传的文件。")]), gr.skip(), gr.skip(), None
        batch = [(Path(p).name, Path(p)) for p in (f if isinstance(f, str) else f.name for f in files)]
        try:
            change = kb.upload(batch, progress=_progress_callback(progress))
        except RagError as exc:
            return _status_error(exc), gr.skip(), gr.skip(), None
        return render.render_status(change.lines), _articles_table(kb), gr.update(choices=kb.files(), value=None), None

    def delete(source, progress=gr.Progress()):
        if not source:
            return (render.render_status([("info", "没有删除任何文件（未选择文件，或已取消）。")]),
                    gr.skip(), gr.skip())
        try:
            change = kb.delete(source, progress=_progress_callback(progress))
        except RagError as exc:
            return _status_error(exc), gr.skip(), gr.skip()
        return render.render_status(change.lines), _articles_table(kb), gr.update(choices=kb.files(), value=None)

    def rebuild(full: bool, progress=gr.Progress()):
        try:
            change = kb.rebuild(full=full, progress=_progress_callback(progress))
        except RagError as exc:
            return _status_error(exc), gr.skip(), gr.skip()
        return render.render_status(change.lines), _articles_table(kb), gr.update(choices=kb.files(), value=None)

    def update(progress=gr.Progress()):
        return rebuild(False, progress)

    def rebuild_all(progress=gr.Progress()):
        return rebuild(True, progress)

    def refresh():
        return _kb_summary(kb), _articles_table(kb), gr.update(choices=kb.files(), value=None)

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
