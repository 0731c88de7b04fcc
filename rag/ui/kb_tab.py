"""The 知识库 tab: switch, create and delete knowledge bases; list, preview, upload, delete, rebuild.

Every changing handler builds an ``Actor`` from the request (the Gradio login, when
RAG_AUTH is set) and the 管理员密码 box, and passes it to the ``rag.kb`` method, which
checks it on the server. Deleting is two calls on the server: the first returns a
short-lived token kept in this session's server-side state, the 确认 button redeems it.
Builds run in the background; a timer polls the build status while one runs.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import gradio as gr

from ..errors import RagError
from ..kb import Actor, KnowledgeBase
from . import listing, render
from .workspace import Workspace

log = logging.getLogger("rag.app")

BUILD_POLL_SECONDS = 1.0  # how often the page asks whether a background build has finished
# Gradio's upload cache: files older than this are deleted, checked this often (seconds).
# Handlers also delete each upload as soon as it has been read.
DELETE_CACHE = (600, 600)


def _lines(lines: list[tuple[str, str]]) -> str:
    return render.render_status(lines)


def _error(exc: Exception) -> str:
    return _lines([("error", str(exc))])


def notice_html(ws: Workspace, kb: KnowledgeBase) -> str:
    """Who may change this knowledge base, and how to enable changing when it is off."""
    text = kb.notice()
    if not text:
        return ""
    danger = " kb-danger" if not ws.changes_possible(kb) else ""
    return f'<div class="kb-notice{danger}" role="note">{html.escape(text)}</div>'


def health_html(kb: KnowledgeBase) -> str:
    """What is wrong with the index (empty when it is fine) — the rebuild button beside it repairs it."""
    h = kb.health()
    if h.ok:
        return ""
    detail = f'<div class="kb-info" style="font-size:0.85em">{html.escape(h.detail)}</div>' if h.detail else ""
    kind = " kb-danger" if h.needs_rebuild and not h.can_answer else ""
    return f'<div class="kb-notice{kind}" role="alert">{html.escape(h.message)}{detail}</div>'


def build_status_html(kb: KnowledgeBase) -> str:
    """The background build's state; ``data-builds`` counts the builds this program started."""
    status = kb.build_status()
    kind = {"running": "info", "failed": "error", "done": "ok"}.get(status.state, "info")
    body = _lines([(kind, status.message)]) if status.message else ""
    return (f'<div class="kb-build" data-state="{html.escape(status.state)}" data-builds="{int(status.builds)}"'
            f' role="status" aria-live="polite">{body}</div>')


def _summary(kb: KnowledgeBase, articles: list[dict]) -> str:
    if not articles:
        h = kb.health()
        return "索引为空：请上传文章。" if h.can_answer else "还不能回答问题：索引需要重建（见上方）。"
    files = len({r["source"] for r in articles})
    return (f"知识库“{kb.name}”：{len(articles)} 篇文章，来自 {files} 个文件，"
            f"{sum(r['chunks'] for r in articles)} 个段落。")


def chunks_of(kb: KnowledgeBase, source: str, title: str) -> list[dict]:
    """What the index holds for one article (``index.chunks_for``, else the loaded chunks)."""
    try:
        index = kb.assistant().index
    except (RagError, OSError):
        return []
    if hasattr(index, "chunks_for"):
        rows = index.chunks_for(source)
    else:
        rows = [{"title": c.title, "chunk_id": c.chunk_id, "start": c.start, "end": c.end, "text": c.text}
                for c in getattr(index, "chunks", []) if c.source == source]
    return [r for r in rows if not title or r.get("title") == title]


def build_kb_tab(ws: Workspace, demo: gr.Blocks, kb_name: gr.State) -> None:
    """The knowledge-base tab's components and events, inside the caller's ``gr.Tab``."""
    first = ws.get()
    can_change = ws.changes_possible(first)

    # ---------------------------------------------------------------- views

    def view(name: str, query: str, page: int):
        kb = ws.get(name)
        articles = kb.articles()
        pg = listing.page_of(articles, query, page)
        choices = listing.article_choices(articles)
        notice_text, health_text = notice_html(ws, kb), health_html(kb)
        return (
            gr.update(value=notice_text, visible=bool(notice_text)),
            gr.update(value=health_text, visible=bool(health_text)),
            gr.update(visible=kb.health().needs_rebuild),
            _summary(kb, articles), pg.rows, pg.caption, pg.page,
            gr.update(choices=kb.files(), value=None),
            gr.update(choices=choices, value=None), "",
        )

    def view_outputs():
        return [notice, health, repair_btn, summary, table, page_caption, page_state, victim, article_pick, preview]

    def on_load(name: str):
        kb = ws.get(name)
        running = kb.build_status().running
        return (*view(name, "", 1), build_status_html(kb), gr.Timer(active=running),
                gr.update(choices=ws.names(), value=kb.name))

    def search(name: str, query: str):
        return view(name, query, 1)

    def turn(name: str, query: str, page: int, step: int):
        return view(name, query, int(page or 1) + step)

    def preview_article(name: str, key: str):
        if not key:
            return ""
        source, title = listing.split_key(key)
        return listing.render_chunks(chunks_of(ws.get(name), source, title), title, source)

    def pick_row(name: str, query: str, page: int, evt: gr.SelectData):
        kb = ws.get(name)
        pg = listing.page_of(kb.articles(), query, page)
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(row, int) or not 0 <= row < len(pg.rows):
            return gr.skip(), gr.skip()
        title, source = pg.rows[row][0], pg.rows[row][1]
        key = listing.article_key({"source": source, "title": title})
        return key, listing.render_chunks(chunks_of(kb, source, title), title, source)

    # ---------------------------------------------------------------- changes

    def _actor(password: str, request: gr.Request | None) -> Actor:
        return Actor.from_request(request, password)

    no_confirm = (None, gr.update(visible=False), "")

    def upload(name, files, password, request: gr.Request):
        kb = ws.get(name)
        if not files:
            return (_lines([("error", "请先选择要上传的文件。")]), gr.skip(), *no_confirm, gr.skip())
        paths = [Path(f if isinstance(f, str) else f.name) for f in files]
        try:
            change = kb.upload([(p.name, p) for p in paths], _actor(password, request))
        except RagError as exc:
            _forget(paths)
            return _error(exc), None, *no_confirm, gr.skip()
        if change.confirmation is not None:  # a long embedding: ask first, keep the files
            pending = {"action": "upload", "kb": kb.name, "token": change.confirmation.token,
                       "files": [str(p) for p in paths]}
            return (_lines(change.lines), gr.skip(), pending, gr.update(visible=True),
                    html.escape(change.confirmation.message), gr.skip())
        _forget(paths)
        return _lines(change.lines), None, *no_confirm, gr.Timer(active=change.status is not None)

    def ask_delete(name, source, password, request: gr.Request):
        kb = ws.get(name)
        if not source:
            return _lines([("info", "请先在下拉框中选择要删除的文件。")]), *no_confirm
        try:
            conf = kb.request_delete(source, _actor(password, request))
        except RagError as exc:
            return _error(exc), *no_confirm
        pending = {"action": "delete-file", "kb": kb.name, "target": source, "token": conf.token}
        return "", pending, gr.update(visible=True), html.escape(conf.message)

    def ask_delete_kb(name, password, request: gr.Request):
        try:
            conf = ws.request_delete(name, _actor(password, request))
        except RagError as exc:
            return _error(exc), *no_confirm
        pending = {"action": "delete-kb", "kb": name, "target": name, "token": conf.token}
        return "", pending, gr.update(visible=True), html.escape(conf.message)

    def confirm(pending, password, request: gr.Request):
        """Step two of whatever the confirmation panel asked about."""
        actor = _actor(password, request)
        keep = gr.skip()
        if not pending:
            return _lines([("info", "没有待确认的操作。")]), *no_confirm, keep, keep, gr.skip()
        action = pending.get("action")
        try:
            if action == "delete-file":
                change = ws.get(pending["kb"]).delete(pending["target"], actor, confirm=pending["token"])
                return _lines(change.lines), *no_confirm, keep, keep, gr.Timer(active=True)
            if action == "delete-kb":
                ws.delete(pending["kb"], actor, pending["token"])
                new = ws.default_name
                return (_lines([("ok", f"已删除知识库“{pending['kb']}”。现在查看“{new}”。")]), *no_confirm,
                        new, gr.update(choices=ws.names(), value=new), gr.skip())
            if action == "upload":
                paths = [Path(p) for p in pending["files"]]
                change = ws.get(pending["kb"]).upload([(p.name, p) for p in paths], actor,
                                                      confirm=pending["token"])
                _forget(paths)
                return (_lines(change.lines), *no_confirm, keep, keep,
                        gr.Timer(active=change.status is not None))
        except RagError as exc:
            return _error(exc), *no_confirm, keep, keep, gr.skip()
        return _lines([("error", "未知的操作。")]), *no_confirm, keep, keep, gr.skip()

    def cancel(pending):
        what = {"delete-file": "没有删除任何文件", "delete-kb": "没有删除知识库", "upload": "没有上传任何文件"}
        if pending and pending.get("action") == "upload":
            _forget([Path(p) for p in pending.get("files", [])])
        return _lines([("info", f"已取消，{what.get((pending or {}).get('action'), '没有做任何修改')}。")]), *no_confirm

    def rebuild(name, password, full: bool, request: gr.Request):
        try:
            change = ws.get(name).rebuild(_actor(password, request), full=full)
        except RagError as exc:
            return _error(exc), gr.skip()
        return _lines(change.lines), gr.Timer(active=True)

    def update(name, password, request: gr.Request):
        return rebuild(name, password, False, request)

    def rebuild_all(name, password, request: gr.Request):
        return rebuild(name, password, True, request)

    def create(new_name, password, request: gr.Request):
        try:
            kb = ws.create((new_name or "").strip(), _actor(password, request))
        except RagError as exc:
            return _error(exc), gr.skip(), gr.skip(), gr.skip()
        return (_lines([("ok", f"已新建知识库“{kb.name}”，现在查看它：请上传文章。")]), kb.name,
                gr.update(choices=ws.names(), value=kb.name), "")

    def tick(name: str, query: str, page: int):
        kb = ws.get(name)
        status = kb.build_status()
        if status.running:
            return build_status_html(kb), gr.Timer(active=True), *([gr.skip()] * 10)
        return build_status_html(kb), gr.Timer(active=False), *view(name, query, page)

    # ---------------------------------------------------------------- layout

    notice = gr.HTML(notice_html(ws, first), elem_id="kb-notice", visible=bool(notice_html(ws, first)))
    with gr.Row(equal_height=True):
        health = gr.HTML(health_html(first), elem_id="kb-health", visible=bool(health_html(first)))
        repair_btn = gr.Button("重建索引（修复）", variant="primary", elem_id="repair-btn",
                               visible=first.health().needs_rebuild, interactive=can_change, scale=0,
                               min_width=180)
    with gr.Row(equal_height=False):
        kb_select = gr.Dropdown(choices=ws.names(), value=first.name, label="当前知识库", elem_id="kb-select",
                                interactive=ws.multi, scale=2,
                                info=None if ws.multi else "只打开了一个知识库（RAG_CORPUS_DIR / RAG_INDEX_DIR）。")
        if ws.multi:
            new_name = gr.Textbox(label="新知识库名称", placeholder="例如 新闻-2024", elem_id="kb-new-name", scale=2,
                                  max_lines=1)
            with gr.Column(scale=1, min_width=140):
                create_btn = gr.Button("新建知识库", elem_id="kb-create", interactive=can_change)
                drop_kb_btn = gr.Button("删除此知识库", variant="stop", elem_id="kb-delete", interactive=can_change)
        password = gr.Textbox(label="管理员密码", type="password", elem_id="admin-password", scale=2,
                              visible=first.policy.needs_password, max_lines=1,
                              placeholder="RAG_ADMIN_PASSWORD 设置的密码")
    summary = gr.Markdown("", elem_id="kb-summary")
    search_box = gr.Textbox(label="搜索文章", placeholder="按标题、文件名或来源搜索", elem_id="kb-search", max_lines=1)
    table = gr.Dataframe(
        value=listing.page_of(first.articles()).rows, headers=listing.HEADERS,
        datatype=["str", "str", "str", "number", "str"], label="文章列表", show_label=False,
        interactive=False, wrap=True, elem_id="kb-table", max_height=520, buttons=[],
    )
    with gr.Row(equal_height=True, elem_id="kb-pager"):
        prev_btn = gr.Button("上一页", size="sm", elem_id="kb-prev", scale=0, min_width=90)
        page_caption = gr.Markdown("", elem_id="kb-page")
        next_btn = gr.Button("下一页", size="sm", elem_id="kb-next", scale=0, min_width=90)
    page_state = gr.State(1)
    build = gr.HTML(build_status_html(first), elem_id="kb-build")
    status = gr.HTML("", elem_id="kb-status")
    pending = gr.State(None)  # the token of a change waiting for its second step (server-side)
    with gr.Column(visible=False, elem_id="kb-confirm") as confirm_box:
        confirm_msg = gr.HTML("", elem_id="kb-confirm-msg")
        with gr.Row():
            yes_btn = gr.Button("确认", variant="stop", elem_id="confirm-yes")
            no_btn = gr.Button("取消", elem_id="confirm-no")
    with gr.Row():
        with gr.Column():
            files = gr.File(
                label=f"上传文章（.txt .md .pdf .docx .html，每个不超过 {first.max_upload_bytes / 1048576:g} MB）",
                file_count="multiple", elem_id="upload", interactive=can_change,
            )
            upload_btn = gr.Button("上传并加入索引", variant="primary", elem_id="upload-btn", interactive=can_change)
        with gr.Column():
            victim = gr.Dropdown(choices=first.files(), value=None, label="删除文章文件",
                                 elem_id="delete-choice", allow_custom_value=False, interactive=can_change)
            delete_btn = gr.Button("删除所选文件", variant="stop", elem_id="delete-btn", interactive=can_change)
            with gr.Row():
                update_btn = gr.Button("更新索引", elem_id="update-btn", interactive=can_change)
                full_btn = gr.Button("完全重建", elem_id="rebuild-btn", interactive=can_change)
    with gr.Accordion("段落预览：索引中保存的内容", open=False, elem_id="chunk-preview-box"):
        gr.Markdown("选择一篇文章（或点击表格中的一行），查看它被切成的段落和每段在原文中的字符位置——回答引用的就是这些段落。")
        article_pick = gr.Dropdown(choices=listing.article_choices(first.articles()), value=None,
                                   label="文章", elem_id="chunk-article")
        preview = gr.HTML("", elem_id="chunk-preview")
    timer = gr.Timer(BUILD_POLL_SECONDS, active=first.build_status().running)

    # ---------------------------------------------------------------- events (page-internal: private)

    # Page-internal, and without Gradio's progress overlay (its "processing" is English):
    # changing actions first write a Chinese "working" line.
    P = {"api_visibility": "private", "show_progress": "hidden"}
    vouts = view_outputs()
    demo.load(on_load, [kb_name], vouts + [build, timer, kb_select], **P)
    search_box.submit(search, [kb_name, search_box], vouts, **P)
    search_box.change(search, [kb_name, search_box], vouts, trigger_mode="always_last", **P)
    prev_btn.click(lambda n, q, p: turn(n, q, p, -1), [kb_name, search_box, page_state], vouts, **P)
    next_btn.click(lambda n, q, p: turn(n, q, p, +1), [kb_name, search_box, page_state], vouts, **P)
    article_pick.input(preview_article, [kb_name, article_pick], preview, **P)
    table.select(pick_row, [kb_name, search_box, page_state], [article_pick, preview], **P)
    timer.tick(tick, [kb_name, search_box, page_state], [build, timer] + vouts, **P)

    confirm_outs = [pending, confirm_box, confirm_msg]
    clear_status = {"fn": lambda: _lines([("info", "正在处理…")]), "inputs": None, "outputs": status,
                    "queue": False, **P}
    upload_btn.click(**clear_status).then(
        upload, [kb_name, files, password], [status, files] + confirm_outs + [timer], **P)
    delete_btn.click(**clear_status).then(ask_delete, [kb_name, victim, password], [status] + confirm_outs, **P)
    yes_btn.click(**clear_status).then(confirm, [pending, password], [status] + confirm_outs + [kb_name, kb_select, timer], **P).then(
        lambda n: view(n, "", 1), [kb_name], vouts, **P)
    no_btn.click(cancel, [pending], [status] + confirm_outs, **P)
    update_btn.click(**clear_status).then(update, [kb_name, password], [status, timer], **P)
    for btn in (full_btn, repair_btn):
        btn.click(**clear_status).then(rebuild_all, [kb_name, password], [status, timer], **P)
    kb_select.input(lambda n: (n, *view(n, "", 1), build_status_html(ws.get(n))), [kb_select],
                    [kb_name] + vouts + [build], **P)
    if ws.multi:
        create_btn.click(**clear_status).then(create, [new_name, password], [status, kb_name, kb_select, new_name], **P).then(
            lambda n: view(n, "", 1), [kb_name], vouts, **P)
        drop_kb_btn.click(**clear_status).then(ask_delete_kb, [kb_name, password], [status] + confirm_outs, **P)


def _forget(paths: list[Path]) -> None:
    """Delete uploaded files from Gradio's cache once they have been read (or refused)."""
    for p in paths:
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("could not remove upload %s: %s", p, exc)
