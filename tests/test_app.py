"""The browser app end to end: ``python app.py`` in a subprocess, driven by Debian's Chromium.

Every page is opened by an English-locale browser (``locale="en-US"``): the page must still
be Chinese throughout. The app runs on private copies of a corpus and its index (or a
private RAG_HOME), so tests may upload, delete and rebuild. Screenshots of the finished
states (light and dark, desktop and phone) go to tests/artifacts/screenshots/, or to
``RAG_SCREENSHOTS_DIR`` (``RAG_SCREENSHOTS_DIR=docs/screenshots`` refreshes the README's); look at them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from _app_server import BROWSER_ARGS, CHROMIUM, AppServer, copy_dir

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# A test run leaves the checkout as it was: screenshots go to an ignored folder unless asked.
SCREENSHOTS = Path(os.environ.get("RAG_SCREENSHOTS_DIR") or ROOT / "tests" / "artifacts" / "screenshots")
QUESTION = "崂山区的“1134”模式指的是什么？"
REFUSED_QUESTION = "2022年世界杯足球赛的冠军是哪支球队？"
UPLOAD_TEXT = """松鼠镇图书馆完成扩建

松鼠镇图书馆于2024年5月完成扩建，新馆面积达到3200平方米，是原来的两倍。扩建工程由镇政府投资1850万元，历时十四个月。
新馆设有儿童阅览区、古籍修复室和一间可容纳120人的报告厅。馆长周明远表示，扩建后每天可接待读者约900人次。
图书馆还与邻近的橡树村小学合作，每周六举办亲子阅读活动，并为村民提供免费的数字资源检索服务。
"""
UPLOAD_NAME = "松鼠镇图书馆.txt"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
UPLOAD_LIMIT_MB = "1"
ADMIN_PASSWORD = "松鼠-admin-2024"
BOT = "#chatbot [data-testid='bot']"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
WCAG_AA = 4.5  # minimum contrast ratio for normal text (WCAG 2.x, 1.4.3)

# Latin words allowed in controls: technical names a Chinese user types or reads as such.
ALLOWED_LATIN = {"API", "LLM", "top", "k", "n", "md", "txt", "pdf", "docx", "html", "MB", "RAG_ADMIN_PASSWORD",
                 "OPENAI_API_KEY", "RAG_LLM_MODEL", "RAG_AUTH", "RAG_CORPUS_DIR", "RAG_INDEX_DIR", "default",
                 "rag", "index"}


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def app_dirs(tmp_path_factory, small_corpus_dir, small_index_dir):
    base = tmp_path_factory.mktemp("app")
    corpus = copy_dir(small_corpus_dir, base / "corpus")
    index = copy_dir(small_index_dir, base / "index")
    return base, corpus, index


@pytest.fixture(scope="module")
def server(app_dirs):
    """One explicit knowledge base, on loopback without a password: changes allowed."""
    base, corpus, index = app_dirs
    srv = AppServer(corpus, index, base / "app.log", RAG_UPLOAD_MAX_MB=UPLOAD_LIMIT_MB)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    """Knowledge bases under a private RAG_HOME (the default one seeded from the checkout), with a password."""
    home = tmp_path_factory.mktemp("rag_home")
    srv = AppServer(None, None, home / "app.log", RAG_HOME=str(home), RAG_ADMIN_PASSWORD=ADMIN_PASSWORD)
    srv.home = home
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


def open_page(browser, url: str, *, viewport=DESKTOP, scheme: str = "light", **kw):
    """A fresh English-locale browser context on the app; the page once the question box is there."""
    context = browser.new_context(viewport=viewport, locale="en-US", color_scheme=scheme, **kw)
    pg = context.new_page()
    pg.set_default_timeout(120_000)  # answers and builds are slow on a loaded CI machine
    pg.goto(url)
    pg.wait_for_selector("#question textarea")
    wait_idle(pg)
    return pg


def wait_idle(pg) -> None:
    """Until the page's load events have finished (no progress timers showing)."""
    pg.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')")


@pytest.fixture
def page(browser, server):
    pg = open_page(browser, server.url)
    yield pg
    pg.context.close()


def shot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def ask(page, question: str) -> None:
    bots = page.locator(BOT)
    before = bots.count()
    page.fill("#question textarea", question)
    page.click("#send")
    wait_answer(page, before)


def wait_answer(page, before: int) -> None:
    # The finished answer replaces the streaming cursor; the panel updates with it.
    page.wait_for_function(
        """n => { const b = document.querySelectorAll(`#chatbot [data-testid='bot']`);
                  return b.length > n && !b[b.length - 1].innerText.includes('▌'); }""",
        arg=before,
    )
    wait_idle(page)


def last_answer(page):
    return page.locator(BOT).last


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def corpus_state(corpus: Path, index: Path) -> tuple:
    files = sorted((p.name, p.stat().st_size) for p in corpus.iterdir() if p.is_file())
    return files, (index / "CURRENT").read_text()


# ---------------------------------------------------------------- one language

ENGLISH_JS = """allowed => {
  const content = '#chatbot .message-content, #chatbot .prose, #sources, #kb-table tbody, #kb-table .virtual-body, #chunk-preview,'
                + ' #kb-summary, #kb-status, #kb-confirm-msg, #delete-choice input, #kb-select input';
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
                          return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; };
  const english = t => (t.match(/[A-Za-z][A-Za-z_]*/g) || []).filter(w => !allowed.includes(w));
  const found = [];
  for (const el of document.querySelectorAll('button, label, [role=tab], summary, th, [role=option], span, p, h1, h2, h3, a, div')) {
    if (!visible(el) || el.closest(content)) continue;
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join(' ');
    const words = english(own);
    if (words.length) found.push(`${el.tagName}: ${own.trim().slice(0, 60)}`);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (el.closest('#sources, #chunk-preview')) continue;  // article titles in card tooltips
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (!v) continue;
      if (el.closest('#chatbot') && a === 'title' && el.closest('.message-content, .prose')) continue;
      if (english(v).length && !(a === 'aria-label' && /^(提问|回答)：/.test(v)))
        found.push(`${el.tagName}[${a}]: ${v.slice(0, 60)}`);
    }
  }
  return found;
}"""


def english_controls(page) -> list[str]:
    return page.evaluate(ENGLISH_JS, sorted(ALLOWED_LATIN))


def test_english_browser_gets_a_chinese_page_and_controls(page):
    assert page.evaluate("navigator.language") == "en-US"
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    assert english_controls(page) == []
    ask(page, QUESTION)
    assert english_controls(page) == []
    # The chatbot's own message labels are Chinese, with the message text (not its HTML).
    labels = page.locator("#chatbot [aria-label^='回答：']").first.get_attribute("aria-label")
    assert "1134" in labels and "<a" not in labels
    open_tab(page, "知识库")
    page.locator("#kb-table", has_text="崂山").wait_for()
    assert page.get_by_text("将文件拖放到此处").count() >= 1  # Gradio's own upload text, translated
    assert english_controls(page) == []
    assert page.locator("footer").get_by_text("设置").count() == 0  # no second, English settings panel


def test_question_box_and_buttons_have_chinese_accessible_names(page):
    assert page.get_by_role("textbox", name="问题").count() == 1
    for name in ("发送", "新对话", "导出对话（.md）", "设置"):
        assert page.get_by_role("button", name=name).count() >= 1, name
    unnamed = page.evaluate("""() => Array.from(document.querySelectorAll('button')).filter(b => {
        const r = b.getBoundingClientRect(); if (!r.width) return false;
        const name = (b.getAttribute('aria-label') || b.innerText || b.title || '').trim();
        return !name; }).map(b => b.outerHTML.slice(0, 80))""")
    assert unnamed == []


# ---------------------------------------------------------------- chat

def test_answer_has_linked_mark_and_highlighted_source(page):
    ask(page, QUESTION)
    answer = last_answer(page)
    assert re.search(r"\[1\]", answer.inner_text())
    assert "1134" in answer.inner_text()
    link = answer.locator("a.cite").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    card = page.locator(f"#sources #{target}")
    card.wait_for(state="visible")
    assert "崂山" in card.locator(".src-title").inner_text()
    assert "004_a725a1633d20dd26.txt" in card.locator(".src-meta").inner_text()
    marked = card.locator("mark").first.inner_text()
    # The highlighted sentences are the ones the extractive answer quotes.
    quoted = re.sub(r"\[\d+\]", "", answer.inner_text())
    assert len(marked) > 10 and marked.rstrip("。") in quoted
    assert page.locator("#cite-drawer:not([hidden])").count() == 0  # wide screen: no drawer


def test_mark_of_an_older_answer_opens_its_sources(page):
    ask(page, QUESTION)
    ask(page, "崂山区靠卫星、无人机等实现了多大范围的全域监测？")
    first_group = page.locator("#sources details.src-group").last  # newest first
    assert first_group.get_attribute("open") is None  # older answers start collapsed
    link = page.locator(BOT).first.locator("a.cite").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    page.wait_for_function("() => document.querySelector('#sources details.src-group:last-child').open")
    card = page.locator(f"#{target}")
    page.wait_for_function(
        """id => { const c = document.getElementById(id).getBoundingClientRect();
                   const p = document.getElementById('sources').getBoundingClientRect();
                   return c.top >= p.top - 1 && c.top < p.bottom; }""",
        arg=target,
    )
    assert card.locator("mark").count() >= 1


def test_follow_up_shows_the_rewritten_question(page):
    ask(page, QUESTION)
    ask(page, "它包括哪些场景？")
    note = last_answer(page).locator(".answer-notes").inner_text()
    assert "检索用的问题：" in note and "1134" in note
    page.locator("#settings").get_by_text("设置").first.click()
    rewritten = page.locator("#rewritten textarea, #rewritten input").first
    rewritten.wait_for()
    assert "1134" in rewritten.input_value() and "场景" in rewritten.input_value()


SLIDER_KEY_TRIES = 5
SLIDER_WAIT_MS = 10_000


def test_top_k_setting_limits_the_sources(page):
    question = "崂山区的城市云脑有什么作用？"
    ask(page, question)
    page.locator("#settings").get_by_text("设置").first.click()
    slider = page.locator("#top-k input[type=range]")
    slider.wait_for()  # the accordion has opened: a key pressed on a hidden slider is lost
    at_one = "() => document.querySelector('#top-k input[type=number]').value === '1'"
    # the keyboard way to move a slider to its minimum, 1; on a loaded machine the accordion's opening can swallow
    # the first key, so the key is pressed again until the number box follows (it failed once so, under training)
    for _ in range(SLIDER_KEY_TRIES):
        slider.focus()
        slider.press("Home")
        try:
            page.wait_for_function(at_one, timeout=SLIDER_WAIT_MS)
            break
        except PlaywrightTimeoutError:
            continue
    page.wait_for_function(at_one)
    ask(page, question)
    assert page.locator("#sources details[open] .src-card").count() <= 1


def test_empty_message_sends_nothing_and_shows_hint(page):
    page.fill("#question textarea", "   ")
    page.click("#send")
    page.locator("#answer-hint", has_text="请输入问题").wait_for()
    assert page.locator("#chatbot [data-testid='user']").count() == 0
    assert page.locator(BOT).count() == 0


def test_unanswerable_question_is_refused_visibly(page):
    ask(page, REFUSED_QUESTION)
    answer = last_answer(page)
    assert answer.locator(".refusal").count() == 1
    assert answer.locator("a.cite").count() == 0
    assert "没有引用" in page.locator("#sources").inner_text()


def test_example_question_sends_when_clicked(page):
    page.locator(".example-q", has_text="中央经济工作会议").click()
    wait_answer(page, 0)
    assert "中央经济工作会议" in page.locator("#chatbot [data-testid='user']").first.inner_text()
    assert page.locator(BOT).count() == 1
    assert page.locator("#question textarea").input_value() == ""


def test_conversation_survives_reload_and_new_chat_starts_over(page):
    ask(page, REFUSED_QUESTION)
    ask(page, QUESTION)
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_function("() => document.querySelectorAll(`#chatbot [data-testid='bot']`).length === 2")
    assert page.locator(BOT).first.locator(".refusal").count() == 1
    assert "1134" in page.locator(BOT).last.inner_text()
    assert page.locator("#sources .src-card").count() >= 1  # the sources panel is back too
    # Follow-ups after a reload still know the conversation.
    ask(page, "它包括哪些场景？")
    assert "1134" in last_answer(page).locator(".answer-notes").inner_text()
    page.get_by_role("button", name="新对话").click()
    page.wait_for_function("() => document.querySelectorAll(`#chatbot [data-testid='bot']`).length === 0")
    page.locator("#sources .src-empty").wait_for()
    page.reload()
    page.wait_for_selector("#question textarea")
    wait_idle(page)
    assert page.locator(BOT).count() == 0


def test_conversations_are_per_browser(browser, server):
    a = open_page(browser, server.url)
    b = open_page(browser, server.url)
    try:
        ask(a, QUESTION)
        b.reload()
        b.wait_for_selector("#question textarea")
        wait_idle(b)
        assert b.locator(BOT).count() == 0
    finally:
        a.context.close()
        b.context.close()


def test_export_downloads_markdown_with_sources(page, tmp_path):
    ask(page, QUESTION)
    ask(page, REFUSED_QUESTION)
    page.wait_for_function("() => !document.querySelector('#export').disabled")
    with page.expect_download() as info:
        page.click("#export")
    path = tmp_path / "export.md"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".md")
    md = path.read_text("utf-8")
    assert md.startswith("# 对话记录")
    assert f"## 1. {QUESTION}" in md and f"## 2. {REFUSED_QUESTION}" in md
    assert re.search(r"\[1\] 《[^》]+》（004_a725a1633d20dd26\.txt，字符 \d+–\d+", md)
    assert "\n> " in md and "1134" in md  # the cited passage, quoted
    assert "**未找到答案：**" in md


# ---------------------------------------------------------------- readable in light and dark

CONTRAST_JS = """() => {
  // Put one element of every styled kind into the sources panel (the page's real
  // background and theme), then measure text against the first opaque background behind it.
  const probe = document.createElement('div');
  probe.id = 'contrast-probe';
  probe.innerHTML = '<div class="refusal"><span class="refusal-tag">未找到答案</span> 抱歉，文章中没有提到。</div>'
    + '<p>回答<span class="unsupported">⚠</span><a class="cite" href="#x">[1]</a></p>'
    + '<div class="answer-notes">ⓘ 检索用的问题</div>'
    + '<div class="src-card"><span class="src-n">[1]</span><div class="src-meta">文件</div>'
    + '<div class="src-text">前文<mark>高亮的句子</mark>后文</div></div>'
    + '<div class="kb-msg kb-ok">已保存</div><div class="kb-msg kb-error">未上传</div>'
    + '<div class="kb-msg kb-warn">⚠ 警告</div><div class="kb-msg kb-info">索引已更新</div>'
    + '<div class="kb-notice">需要管理员密码</div><div class="kb-notice kb-danger">修改已停用</div>';
  document.getElementById('sources').appendChild(probe);
  const rgb = s => { const m = s.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                       if (c.a >= 0.99) return c; } return rgb(getComputedStyle(document.body).backgroundColor); };
  const out = {};
  for (const sel of ['.refusal', '.refusal-tag', '.unsupported', 'a.cite', '.answer-notes', '.src-n', '.src-meta',
                     'mark', '.src-text', '.kb-ok', '.kb-error', '.kb-warn', '.kb-info', '.kb-notice:not(.kb-danger)',
                     '.kb-danger']) {
    const el = probe.querySelector(sel);
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
    out[sel] = Math.round((l1 + 0.05) / (l2 + 0.05) * 100) / 100;
  }
  out.dark = document.body.classList.contains('dark');
  probe.remove();
  return out;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_styles_are_readable_in_light_and_dark(browser, server, scheme):
    pg = open_page(browser, server.url, scheme=scheme)
    try:
        ask(pg, QUESTION)
        ask(pg, REFUSED_QUESTION)
        ratios = pg.evaluate(CONTRAST_JS)
        assert ratios.pop("dark") is (scheme == "dark")
        low = {k: v for k, v in ratios.items() if v < WCAG_AA}
        assert low == {}, f"contrast below {WCAG_AA}:1 in {scheme}: {low}"
        # The real highlight and refusal, as rendered.
        real = pg.evaluate("""() => { const m = document.querySelector('#sources mark');
            const r = document.querySelector('#chatbot .refusal');
            return [getComputedStyle(m).color, getComputedStyle(m).backgroundColor, getComputedStyle(r).backgroundColor]; }""")
        if scheme == "dark":
            assert real[0] != "rgb(255, 255, 255)" or real[1] != "rgb(253, 230, 138)"  # not white on pale yellow
            assert real[2] != "rgb(255, 245, 245)"  # not the light pink box
        # Screenshots: the chat with an answer, its highlighted source and a refusal.
        pg.locator(BOT).first.locator("a.cite").first.click()
        pg.wait_for_timeout(2000)  # the flash animation ends; the screenshot shows the settled page
        shot(pg, "chat" if scheme == "light" else "chat-dark", full_page=False)
    finally:
        pg.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_mark_opens_the_source_in_place(browser, server, scheme):
    pg = open_page(browser, server.url, viewport=PHONE, scheme=scheme, is_mobile=True, has_touch=True)
    try:
        ask(pg, QUESTION)
        link = last_answer(pg).locator("a.cite").first
        link.scroll_into_view_if_needed()
        before = pg.evaluate("window.scrollY")
        link.tap()
        drawer = pg.locator("#cite-drawer")
        drawer.wait_for(state="visible")
        assert abs(pg.evaluate("window.scrollY") - before) < 50  # the page did not jump to the panel
        assert "崂山" in drawer.locator(".src-title").inner_text()
        assert drawer.locator("mark").count() >= 1
        box = drawer.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"] + 1 and box["width"] >= PHONE["width"] - 1
        shot(pg, f"phone-source-{scheme}", full_page=False)
        drawer.get_by_role("button", name="关闭来源").tap()
        drawer.wait_for(state="hidden")
        link.tap()
        drawer.wait_for(state="visible")
        pg.keyboard.press("Escape")
        drawer.wait_for(state="hidden")
        pg.evaluate("window.scrollTo(0, 0)")
        shot(pg, f"phone-chat-{scheme}", full_page=False)
    finally:
        pg.context.close()


# ---------------------------------------------------------------- knowledge base (one, no password on loopback)

UPLOAD_RESULT = re.compile("已保存|未上传|请先选择|上传文章需要|上传文章已停用")


def upload(page, name: str, data: bytes, mime: str = "text/plain") -> str:
    """Upload one file on the knowledge-base tab; the status message it produced."""
    status = page.locator("#kb-status")
    page.locator("#upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.locator("#upload [data-testid='download-link']").first.wait_for()  # upload finished
    page.click("#upload-btn")
    status.locator(".kb-msg", has_text=UPLOAD_RESULT).first.wait_for()
    return status.inner_text()


def builds(page) -> int:
    """How many builds the app has started for the knowledge base on show."""
    return int(page.locator("#kb-build .kb-build").get_attribute("data-builds"))


def wait_build_done(page, before: int) -> None:
    """Until a build started after ``before`` builds has finished; it must have succeeded."""
    page.wait_for_function(  # no time limit: a build takes what the machine needs
        """n => { const b = document.querySelector('#kb-build .kb-build');
                  return b && +b.dataset.builds > n && b.dataset.state !== 'running'; }""", arg=before, timeout=0)
    state = page.locator("#kb-build .kb-build").get_attribute("data-state")
    assert state == "done", page.locator("#kb-build").inner_text()


def pick_file(page, name: str) -> None:
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name=name).click()


def test_upload_shows_on_top_then_ask_cite_and_delete_in_two_steps(page, app_dirs):
    _, corpus, index = app_dirs
    open_tab(page, "知识库")
    page.locator("#kb-table", has_text="崂山").wait_for()
    assert page.locator("#kb-notice").is_hidden()  # loopback, no password: nothing to say
    done = builds(page)
    message = upload(page, UPLOAD_NAME, UPLOAD_TEXT.encode("utf-8"))
    assert "已保存 松鼠镇图书馆.txt" in message, message
    wait_build_done(page, done)
    page.locator("#kb-table .virtual-row").first.filter(has_text="松鼠镇图书馆完成扩建").wait_for()  # newest first
    assert (corpus / UPLOAD_NAME).read_text("utf-8") == UPLOAD_TEXT

    open_tab(page, "问答")
    ask(page, "松鼠镇图书馆扩建后新馆面积是多少？")
    answer = last_answer(page)
    assert "3200" in answer.inner_text()
    href = answer.locator("a.cite").first.get_attribute("href").lstrip("#")
    assert UPLOAD_NAME in page.locator(f"#sources #{href} .src-meta").inner_text()

    open_tab(page, "知识库")
    pick_file(page, UPLOAD_NAME)
    page.click("#delete-btn")  # step one: the server asks
    confirm = page.locator("#kb-confirm")
    confirm.wait_for(state="visible")
    assert UPLOAD_NAME in confirm.inner_text() and "确定" in confirm.inner_text()
    page.click("#confirm-no")  # changing one's mind deletes nothing
    page.locator("#kb-status", has_text="没有删除任何文件").wait_for()
    assert (corpus / UPLOAD_NAME).exists()
    pick_file(page, UPLOAD_NAME)
    page.click("#delete-btn")
    confirm.wait_for(state="visible")
    done = builds(page)
    page.click("#confirm-yes")  # step two: the token the server issued
    page.locator("#kb-status", has_text="已删除").wait_for()
    wait_build_done(page, done)
    page.wait_for_function(
        "() => !document.querySelector('#kb-table').innerText.includes('松鼠镇图书馆完成扩建')"
    )
    assert not (corpus / UPLOAD_NAME).exists()
    assert "崂山" in page.locator("#kb-table").inner_text()


def test_chunk_preview_shows_what_the_index_holds(page, app_dirs):
    open_tab(page, "知识库")
    page.locator("#kb-table", has_text="崂山").wait_for()
    page.locator("#chunk-preview-box").get_by_text("段落预览").click()
    page.locator("#kb-table .virtual-row").first.locator("[role=gridcell]").first.click()
    preview = page.locator("#chunk-preview")
    preview.locator(".chunk").first.wait_for()
    first_meta = preview.locator(".chunk .chunk-meta").first.inner_text()
    assert re.match(r"段落 1 · 字符 \d+–\d+", first_meta)
    spans = [tuple(map(int, m)) for m in re.findall(r"字符 (\d+)–(\d+)",
                                                    " ".join(preview.locator(".chunk .chunk-meta").all_inner_texts()))]
    assert len(spans) >= 2 and spans == sorted(spans) and all(e - s > 0 for s, e in spans)
    if any(b[0] < a[1] for a, b in zip(spans, spans[1:])):  # chunks overlap: the repeated text is dimmed
        assert preview.locator(".chunk-overlap").count() >= 1


@pytest.mark.parametrize(
    "name, data, expect",
    [
        ("picture.txt", PNG, "未上传 picture.txt"),
        ("big.txt", ("长" * 600_000).encode("utf-8"), "太大"),
        ("program.exe", b"MZ\x90\x00" + bytes(300), "不支持"),
    ],
    ids=["binary-renamed-txt", "oversized", "unsupported-suffix"],
)
def test_bad_upload_is_refused_and_changes_nothing(page, app_dirs, name, data, expect):
    _, corpus, index = app_dirs
    before = corpus_state(corpus, index)
    open_tab(page, "知识库")
    message = upload(page, name, data, mime="application/octet-stream")
    assert page.locator("#kb-status .kb-error").count() == 1
    assert "未上传" in message and expect in message, message
    assert corpus_state(corpus, index) == before


def test_path_in_file_name_is_neutralised(page, app_dirs):
    base, corpus, index = app_dirs
    open_tab(page, "知识库")
    done = builds(page)
    message = upload(page, "../../x.txt", UPLOAD_TEXT.replace("松鼠镇", "刺猬村").encode("utf-8"))
    assert "已保存 x.txt" in message, message
    assert (corpus / "x.txt").is_file()
    outside = [p for p in base.parent.rglob("x.txt") if corpus not in p.parents]
    assert outside == []
    wait_build_done(page, done)
    pick_file(page, "x.txt")
    page.click("#delete-btn")
    page.click("#confirm-yes")
    page.locator("#kb-status", has_text="已删除").wait_for()
    assert not (corpus / "x.txt").exists()


# ---------------------------------------------------------------- knowledge bases with an administrator password

def test_changes_need_the_password_checked_on_the_server(browser, admin_server):
    pg = open_page(browser, admin_server.url)
    try:
        open_tab(pg, "知识库")
        notice = pg.locator("#kb-notice")
        notice.wait_for()
        assert "管理员密码" in notice.inner_text() and "RAG_ADMIN_PASSWORD" in notice.inner_text()
        corpus = admin_server.home / "kbs" / "default" / "corpus"
        pg.locator("#kb-table", has_text="21世纪经济报道").wait_for()
        before = sorted(p.name for p in corpus.iterdir())
        # No password, then a wrong one: every change is refused by the server, nothing written.
        # (Each refusal names its action, so consecutive messages differ and each one is new.)
        for typed, rebuild_button in (("", "#update-btn"), ("wrong-password", "#rebuild-btn")):
            pg.fill("#admin-password input", typed)
            message = upload(pg, UPLOAD_NAME, UPLOAD_TEXT.encode("utf-8"))
            assert "上传文章需要管理员密码" in message, message
            pick_file(pg, before[0])
            pg.click("#delete-btn")
            pg.locator("#kb-status", has_text="删除文章需要管理员密码").wait_for()
            assert pg.locator("#kb-confirm").is_hidden()
            pg.click(rebuild_button)
            pg.locator("#kb-status", has_text="重建索引需要管理员密码").wait_for()
            assert sorted(p.name for p in corpus.iterdir()) == before
        # With the password the server accepts: a background build starts and its status is shown.
        pg.fill("#admin-password input", ADMIN_PASSWORD)
        started = builds(pg)
        pg.click("#update-btn")
        pg.locator("#kb-status", has_text="正在建索引").or_(pg.locator("#kb-status", has_text="索引已更新")).first.wait_for()
        pg.wait_for_function("n => +document.querySelector('#kb-build .kb-build').dataset.builds > n", arg=started)
        assert "需要管理员密码" not in pg.locator("#kb-status").inner_text()
        assert sorted(p.name for p in corpus.iterdir()) == before
    finally:
        pg.context.close()


def test_table_searches_and_pages(browser, admin_server):
    pg = open_page(browser, admin_server.url)
    try:
        open_tab(pg, "知识库")
        caption = pg.locator("#kb-page")
        caption.filter(has_text="第 1 / 4 页").wait_for()  # 34 sample articles, ten a page
        first_page = pg.locator("#kb-table .virtual-body").inner_text()
        pg.click("#kb-next")
        caption.filter(has_text="第 2 / 4 页").wait_for()
        assert pg.locator("#kb-table .virtual-body").inner_text() != first_page
        pg.click("#kb-prev")
        caption.filter(has_text="第 1 / 4 页").wait_for()
        pg.fill("#kb-search input", "崂山")
        caption.filter(has_text="找到").wait_for()
        rows = pg.locator("#kb-table .virtual-row").all_inner_texts()
        assert rows and all("崂山" in r for r in rows)
        pg.fill("#kb-search input", "不存在的文章标题")
        caption.filter(has_text="没有匹配的文章").wait_for()
        pg.fill("#kb-search input", "")
        caption.filter(has_text="共 34 篇，第 1 / 4 页").wait_for()
        pg.wait_for_function("t => document.querySelector('#kb-table .virtual-body').innerText === t", arg=first_page)
        shot(pg, "knowledge-base")
    finally:
        pg.context.close()


def test_create_switch_and_delete_a_knowledge_base(browser, admin_server):
    pg = open_page(browser, admin_server.url)
    try:
        open_tab(pg, "知识库")
        pg.fill("#admin-password input", ADMIN_PASSWORD)
        pg.fill("#kb-new-name input", "测试库")
        pg.click("#kb-create")
        pg.locator("#kb-status", has_text="已新建知识库“测试库”").wait_for()
        assert (admin_server.home / "kbs" / "测试库").is_dir()
        pg.locator("#kb-summary", has_text="索引为空").or_(pg.locator("#kb-health")).first.wait_for()
        assert "21世纪经济报道" not in pg.locator("#kb-table").inner_text()
        # The chat of this session answers from the new, empty knowledge base.
        open_tab(pg, "问答")
        ask(pg, QUESTION)
        assert last_answer(pg).locator("a.cite").count() == 0
        # Back to the default one.
        open_tab(pg, "知识库")
        pg.locator("#kb-select input").click()
        pg.get_by_role("option", name="default").click()
        pg.locator("#kb-table", has_text="21世纪经济报道").wait_for()
        pg.locator("#kb-select input").click()
        pg.get_by_role("option", name="测试库").click()
        pg.locator("#kb-summary", has_text="测试库").or_(pg.locator("#kb-summary", has_text="索引")).first.wait_for()
        # Two-step delete of the knowledge base: cancel, then confirm.
        pg.click("#kb-delete")
        pg.locator("#kb-confirm").wait_for(state="visible")
        assert "测试库" in pg.locator("#kb-confirm").inner_text()
        pg.click("#confirm-no")
        pg.locator("#kb-status", has_text="没有删除知识库").wait_for()
        assert (admin_server.home / "kbs" / "测试库").is_dir()
        pg.click("#kb-delete")
        pg.locator("#kb-confirm").wait_for(state="visible")
        pg.click("#confirm-yes")
        pg.locator("#kb-status", has_text="已删除知识库“测试库”").wait_for()
        assert not (admin_server.home / "kbs" / "测试库").exists()
        pg.locator("#kb-table", has_text="21世纪经济报道").wait_for()
        pg.locator("#kb-select input").click()
        assert pg.get_by_role("option", name="测试库").count() == 0
    finally:
        pg.context.close()


def test_knowledge_base_tab_screenshots(browser, admin_server):
    for scheme, viewport, name in (("dark", DESKTOP, "knowledge-base-dark"), ("light", PHONE, "phone-knowledge-base-light")):
        pg = open_page(browser, admin_server.url, viewport=viewport, scheme=scheme)
        try:
            open_tab(pg, "知识库")
            pg.locator("#kb-table", has_text="21世纪经济报道").wait_for()
            pg.locator("#chunk-preview-box").get_by_text("段落预览").click()
            pg.locator("#kb-table .virtual-row").first.locator("[role=gridcell]").first.click()
            pg.locator("#chunk-preview .chunk").first.wait_for()
            assert english_controls(pg) == []
            shot(pg, name)
        finally:
            pg.context.close()


# ---------------------------------------------------------------- a mismatched index: the app starts and repairs it

def test_app_starts_on_a_mismatched_index_and_repairs_it_from_the_page(browser, tmp_path, small_corpus_dir,
                                                                       small_index_dir):
    corpus = copy_dir(small_corpus_dir, tmp_path / "corpus")
    index = copy_dir(small_index_dir, tmp_path / "index")
    # The case: the index was built with another chunk overlap than configured.
    with AppServer(corpus, index, tmp_path / "app.log", RAG_CHUNK_OVERLAP="100") as srv:
        pg = open_page(browser, srv.url)
        try:
            banner = pg.locator("#chat-health")
            banner.get_by_text("重建").first.wait_for()
            open_tab(pg, "知识库")
            health = pg.locator("#kb-health")
            health.wait_for()
            assert "索引与当前设置不符" in health.inner_text()
            done = builds(pg)
            pg.click("#repair-btn")
            wait_build_done(pg, done)
            health.wait_for(state="hidden")
            pg.locator("#kb-table", has_text="崂山").wait_for()
            open_tab(pg, "问答")
            ask(pg, QUESTION)
            assert "1134" in last_answer(pg).inner_text()
        finally:
            pg.context.close()


# ---------------------------------------------------------------- LLM mode

LLM_SENTENCE = "崂山区推行的“1134”模式是指1套机制、1个中心、3项能力和4大场景"


@pytest.fixture(scope="module")
def llm(tmp_path_factory, small_corpus_dir, small_index_dir):
    """The app with an LLM configured: a real OpenAI-compatible server on 127.0.0.1."""
    import threading

    from _openai_server import TEST_KEY, OpenAIServer, Reply

    base = tmp_path_factory.mktemp("app_llm")
    api = OpenAIServer(api_key=TEST_KEY).start()
    gate = threading.Event()

    def respond(request):
        # Cite the passage that holds the answer, under the number the prompt gave it.
        user = request.message_text("user")
        n = next((m.group(1) for m in re.finditer(r'<资料 编号="(\d+)"[^>]*>([^<]*)', user)
                  if "1134" in m.group(2)), None)
        if n is None:
            return Reply("资料中没有找到这个问题的答案。")
        return Reply(f"{LLM_SENTENCE}[{n}]。", gate=gate)

    api.respond_with(respond)
    srv = AppServer(
        copy_dir(small_corpus_dir, base / "corpus"), copy_dir(small_index_dir, base / "index"),
        base / "app.log", OPENAI_BASE_URL=api.url, OPENAI_API_KEY=TEST_KEY, RAG_LLM_MODEL="test-model",
    )
    srv.start()
    yield srv, api, gate
    srv.stop()
    api.close()


def test_llm_answer_streams_and_highlights_the_closest_sentence(browser, llm):
    srv, api, gate = llm
    page = open_page(browser, srv.url)
    try:
        page.locator("#settings").get_by_text("设置").first.click()
        mode = page.locator("#settings").get_by_label("大模型生成（LLM）")
        mode.wait_for()
        assert mode.is_checked()  # configured LLM is the default mode
        page.fill("#question textarea", QUESTION)
        page.click("#send")
        # The first piece reaches the browser while the server still holds back the rest.
        page.wait_for_function(
            """() => { const b = document.querySelectorAll(`#chatbot [data-testid='bot']`);
                       const t = b.length ? b[b.length - 1].innerText : '';
                       return t.includes('崂山') && t.includes('▌'); }"""
        )
        gate.set()
        page.wait_for_function(
            """() => { const b = document.querySelectorAll(`#chatbot [data-testid='bot']`);
                       return b.length && b[b.length - 1].querySelector('a.cite'); }"""
        )
        answer = last_answer(page)
        assert LLM_SENTENCE in answer.inner_text()
        target = answer.locator("a.cite").first.get_attribute("href").lstrip("#")
        marked = page.locator(f"#{target} mark").first.inner_text()
        # Not verbatim: the passage sentence sharing most bigrams with the answer sentence.
        assert "1134" in marked and marked not in LLM_SENTENCE and "4大场景" in marked
    finally:
        page.context.close()
    assert api.chat_requests and api.chat_requests[-1].body.get("stream") is True
