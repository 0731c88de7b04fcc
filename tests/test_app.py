"""The browser app end to end: app.py in a subprocess, driven by Chromium and gradio_client.

The app runs on a private copy of the small sample corpus and its index. Screenshots
go to tests/artifacts/ (look at them: Chinese must render, panels must be readable).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from _app_server import BROWSER_ARGS, CHROMIUM, AppServer, copy_dir

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
QUESTION = "崂山区的“1134”模式指的是什么？"
UPLOAD_TEXT = """松鼠镇图书馆完成扩建

松鼠镇图书馆于2024年5月完成扩建，新馆面积达到3200平方米，是原来的两倍。扩建工程由镇政府投资1850万元，历时十四个月。
新馆设有儿童阅览区、古籍修复室和一间可容纳120人的报告厅。馆长周明远表示，扩建后每天可接待读者约900人次。
图书馆还与邻近的橡树村小学合作，每周六举办亲子阅读活动，并为村民提供免费的数字资源检索服务。
"""
UPLOAD_NAME = "松鼠镇图书馆.txt"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
UPLOAD_LIMIT_MB = "1"
BOT = "#chatbot [data-testid='bot']"


@pytest.fixture(scope="module")
def app_dirs(tmp_path_factory, small_corpus_dir, small_index_dir):
    base = tmp_path_factory.mktemp("app")
    corpus = copy_dir(small_corpus_dir, base / "corpus")
    index = copy_dir(small_index_dir, base / "index")
    return base, corpus, index


@pytest.fixture(scope="module")
def server(app_dirs):
    base, corpus, index = app_dirs
    srv = AppServer(corpus, index, base / "app.log", RAG_UPLOAD_MAX_MB=UPLOAD_LIMIT_MB)
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


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(120_000)  # answers and builds are slow on a loaded CI machine
    pg.goto(server.url)
    pg.wait_for_selector("#question textarea")
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ask(page, question: str) -> None:
    bots = page.locator(BOT)
    before = bots.count()
    page.fill("#question textarea", question)
    page.click("#send")
    # The finished answer replaces the streaming cursor; the panel updates with it.
    page.wait_for_function(
        """n => { const b = document.querySelectorAll(`#chatbot [data-testid='bot']`);
                  return b.length > n && !b[b.length - 1].innerText.includes('▌'); }""",
        arg=before,
    )


def last_answer(page):
    return page.locator(BOT).last


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def corpus_state(corpus: Path, index: Path) -> tuple:
    files = sorted((p.name, p.stat().st_size) for p in corpus.iterdir() if p.is_file())
    return files, (index / "CURRENT").read_text()


# ---------------------------------------------------------------- chat

def test_answer_has_linked_mark_and_highlighted_source(page, server):
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
    # The highlighted sentence is the one the extractive answer quotes.
    assert len(marked) > 10 and marked.rstrip("。") in answer.inner_text()
    page.wait_for_timeout(700)  # let the smooth scroll and flash settle for the screenshot
    shot(page, "chat")


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


def test_top_k_setting_limits_the_sources(page):
    question = "科技金融体制存在哪些问题？"  # cites two passages at the default top-k
    ask(page, question)
    assert page.locator("#sources details[open] .src-card").count() >= 2
    page.locator("#settings").get_by_text("设置").first.click()
    slider = page.locator("#top-k input[type=range]")
    slider.focus()
    slider.press("Home")  # the keyboard way to move a slider to its minimum, 1
    page.wait_for_function("() => document.querySelector('#top-k input[type=number]').value === '1'")
    ask(page, question)
    assert page.locator("#sources details[open] .src-card").count() == 1


def test_empty_message_sends_nothing_and_shows_hint(page):
    page.fill("#question textarea", "   ")
    page.click("#send")
    page.locator("#answer-hint", has_text="请输入问题").wait_for()
    assert page.locator("#chatbot [data-testid='user']").count() == 0
    assert page.locator(BOT).count() == 0


def test_unanswerable_question_is_refused_visibly(page):
    ask(page, "2022年世界杯足球赛的冠军是哪支球队？")
    answer = last_answer(page)
    assert answer.locator(".refusal").count() == 1
    assert answer.locator("a.cite").count() == 0
    assert "没有引用" in page.locator("#sources").inner_text()
    shot(page, "refusal")


def test_clear_empties_history_and_sources(page):
    ask(page, QUESTION)
    assert page.locator("#sources .src-card").count() >= 1
    page.click("#clear")
    page.wait_for_function("() => document.querySelectorAll(`#chatbot [data-testid='bot']`).length === 0")
    page.locator("#sources .src-empty").wait_for()


# ---------------------------------------------------------------- knowledge base

def upload(page, name: str, data: bytes, mime: str = "text/plain") -> str:
    """Upload one file on the knowledge-base tab; the status message it produced."""
    status = page.locator("#kb-status")
    page.locator("#upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.locator("#upload [data-testid='download-link']").first.wait_for()  # upload finished
    page.click("#upload-btn")
    status.locator(".kb-msg").first.wait_for()
    return status.inner_text()


def test_upload_ask_cite_delete(page, server, app_dirs):
    _, corpus, index = app_dirs
    open_tab(page, "知识库")
    page.locator("#kb-table", has_text="崂山").wait_for()
    message = upload(page, UPLOAD_NAME, UPLOAD_TEXT.encode("utf-8"))
    assert "已保存 松鼠镇图书馆.txt" in message, message
    assert "索引已更新" in message
    page.locator("#kb-table", has_text="松鼠镇图书馆完成扩建").wait_for()
    assert (corpus / UPLOAD_NAME).read_text("utf-8") == UPLOAD_TEXT
    shot(page, "kb")

    open_tab(page, "问答")
    ask(page, "松鼠镇图书馆扩建后新馆面积是多少？")
    answer = last_answer(page)
    assert "3200" in answer.inner_text()
    href = answer.locator("a.cite").first.get_attribute("href").lstrip("#")
    assert UPLOAD_NAME in page.locator(f"#sources #{href} .src-meta").inner_text()

    open_tab(page, "知识库")
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name=UPLOAD_NAME).click()
    page.once("dialog", lambda d: d.dismiss())  # changing one's mind deletes nothing
    page.click("#delete-btn")
    page.locator("#kb-status", has_text="没有删除任何文件").wait_for()
    assert (corpus / UPLOAD_NAME).exists()
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name=UPLOAD_NAME).click()
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-btn")
    page.locator("#kb-status", has_text="已删除").wait_for()
    page.wait_for_function(
        "() => !document.querySelector('#kb-table').innerText.includes('松鼠镇图书馆完成扩建')"
    )
    assert not (corpus / UPLOAD_NAME).exists()
    assert "崂山" in page.locator("#kb-table").inner_text()


@pytest.mark.parametrize(
    "name, data, expect",
    [
        ("picture.txt", PNG, "内容与文件类型不符"),
        ("big.txt", ("长" * 600_000).encode("utf-8"), "文件太大"),
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
    message = upload(page, "../../x.txt", UPLOAD_TEXT.replace("松鼠镇", "刺猬村").encode("utf-8"))
    assert "已保存 x.txt" in message, message
    assert (corpus / "x.txt").is_file()
    outside = [p for p in base.parent.rglob("x.txt") if corpus not in p.parents]
    assert outside == []
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name="x.txt").click()
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-btn")
    page.locator("#kb-status", has_text="已删除").wait_for()
    assert not (corpus / "x.txt").exists()


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
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(srv.url)
        page.wait_for_selector("#question textarea")
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
        shot(page, "chat-llm")
    finally:
        context.close()
    assert api.chat_requests and api.chat_requests[-1].body.get("stream") is True


# ---------------------------------------------------------------- API

def test_ask_endpoint_returns_answer_with_numbered_sources(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    text = client.predict(QUESTION, api_name="/ask")
    answer, _, sources = text.partition("**来源**")
    assert "1134" in answer and "[1]" in answer
    assert re.search(r"\[1\] 《[^》]+》（004_a725a1633d20dd26\.txt，字符 \d+–\d+）", sources)


def test_ask_endpoint_refuses_without_sources(server):
    from gradio_client import Client

    text = Client(server.url, verbose=False).predict("2022年世界杯足球赛的冠军是哪支球队？", api_name="/ask")
    assert text.startswith("抱歉") and "来源" not in text and "[1]" not in text


def test_ask_endpoint_rejects_empty_question(server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="问题不能为空"):
        Client(server.url, verbose=False).predict("  ", api_name="/ask")


def test_api_page_documents_ask(server):
    import json
    import urllib.request

    with urllib.request.urlopen(server.url + "gradio_api/info") as r:
        info = json.load(r)
    ask = info["named_endpoints"]["/ask"]
    assert ask["parameters"][0]["parameter_name"] == "question"
    assert "numbered sources" in ask["description"]
