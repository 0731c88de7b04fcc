"""rag.loading.formats: the registry and one reader per format, on real files made here.

Word documents are built with python-docx, PDFs with PyMuPDF (a CJK font from
fonts-noto-cjk, a larger font for the title) or matplotlib, HTML and Markdown as
text. Each layout people use — title, then 来源/作者/日期 lines, then the body; or
the 来源 line at the end — keeps its title and publication in every format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loading import SUPPORTED_SUFFIXES, Extracted, Format, discover, format_for, load_file, read_text, sniff_kind
from rag.loading import formats as registry

SENTENCE = "中央经济工作会议12月11日至12日在北京举行，会议提出扩大有效需求。"
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TITLE = "青澜湾海藻养殖合作社带动渔村增收"
BODY = [
    "青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵头，带动周边三个渔村的一百二十户渔民参与养殖。",
    "合作社采用“合作社+农户”的模式，统一提供苗种和技术指导，去年海藻产量达到八百吨，社员人均增收一万二千元。",
]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ file builders


def make_txt(path: Path, title: str, lines: list[str]) -> Path:
    path.write_text("\n\n".join([title, *lines]), encoding="utf-8")
    return path


def make_md(path: Path, title: str, lines: list[str]) -> Path:
    quoted = [f"> {l}" if len(l) < 40 and "：" in l else l for l in lines]  # "> 来源：…"
    path.write_text("\n\n".join([f"# {title}", *quoted]), encoding="utf-8")
    return path


def make_docx(path: Path, title: str, lines: list[str], style: str = "Heading 1") -> Path:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    if style == "Title":
        document.add_heading(title, level=0)
    elif style == "Heading 1":
        document.add_heading(title, level=1)
    else:  # a plain paragraph set apart by a larger bold font
        run = document.add_paragraph().add_run(title)
        run.bold, run.font.size = True, Pt(18)
    for line in lines:
        document.add_paragraph(line)
    document.save(path)
    return path


def make_html(path: Path, title: str, lines: list[str]) -> Path:
    body = "".join(f"<p>{l}</p>" for l in lines)
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title} - 青澜网</title></head>"
        f"<body><nav>首页 | 新闻</nav><article><h1>{title}</h1>{body}</article></body></html>",
        encoding="utf-8",
    )
    return path


def make_pdf(path: Path, title: str, lines: list[str], *, title_size: float = 20, label: str = "") -> Path:
    """A real PDF drawn with PyMuPDF: the title in a larger font, the body hard-wrapped at 36 characters."""
    import pymupdf

    if not CJK_FONT.exists():
        pytest.skip("fonts-noto-cjk is not installed")
    document = pymupdf.open()
    page = document.new_page()
    page.insert_font(fontname="cjk", fontfile=str(CJK_FONT))
    y = 72.0
    if label:
        page.insert_text((72, y), label, fontsize=9, fontname="cjk")
        y += 20
    for i in range(0, len(title), 22):
        page.insert_text((72, y), title[i:i + 22], fontsize=title_size, fontname="cjk")
        y += title_size * 1.5
    for line in lines:
        for i in range(0, len(line), 36):
            page.insert_text((72, y), line[i:i + 36], fontsize=11, fontname="cjk")
            y += 17
        y += 6
    document.save(path)
    document.close()
    return path


BUILDERS = {"txt": make_txt, "md": make_md, "docx": make_docx, "html": make_html, "pdf": make_pdf}
LAYOUTS = {
    "来源-first": (["来源：青澜日报", *BODY], "青澜日报"),
    "来源-at-end": ([*BODY, "来源：青澜日报"], "青澜日报"),
    "作者日期-first": (["作者：林晓禾 2024年3月5日", *BODY], "作者：林晓禾 2024年3月5日"),
    "作者日期-at-end": ([*BODY, "作者：林晓禾 2024年3月5日"], "作者：林晓禾 2024年3月5日"),
    "发布时间来源-first": (["发布时间：2024-03-05 来源：海湾观察", *BODY], "海湾观察"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("suffix", sorted(BUILDERS))
def test_every_format_keeps_title_and_publication_in_every_layout(tmp_path, suffix, layout):
    lines, publication = LAYOUTS[layout]
    path = BUILDERS[suffix](tmp_path / f"upload.{suffix}", TITLE, lines)
    [doc] = load_file(path)
    assert doc.title == TITLE
    assert doc.publication == publication
    assert doc.text.split("\n")[0] == TITLE
    for line in BODY:
        assert line in doc.text  # hard wraps joined again, nothing lost
    assert "来源" not in doc.text


# ------------------------------------------------------------------ registry


def test_supported_suffixes_come_from_the_registry():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
    for suffix in SUPPORTED_SUFFIXES:
        fmt = format_for(suffix)
        assert isinstance(fmt, Format) and suffix in fmt.suffixes
    assert format_for(".HTM") is format_for(".html")
    assert format_for(".pptx") is None


def test_a_new_format_is_one_registration(tmp_path, monkeypatch):
    class SubtitleFormat:  # what a .pptx module would look like: one class, one register call
        name = "srt"
        suffixes = (".srt",)
        kind = "text"
        description = "字幕文件"

        def detects(self, data: bytes) -> bool:
            return False

        def read(self, data: bytes, label: str) -> Extracted:
            text = data.decode("utf-8")
            lines = [l for l in text.splitlines() if l.strip() and "-->" not in l and not l.strip().isdigit()]
            return Extracted("\n".join(["节目字幕", *lines]), title="节目字幕")

    monkeypatch.setattr(registry, "_BY_SUFFIX", dict(registry._BY_SUFFIX))
    registry.register(SubtitleFormat())
    path = _write(tmp_path, "show.srt", ("1\n00:00:01,000 --> 00:00:03,000\n" + SENTENCE + "\n").encode("utf-8"))
    assert sniff_kind(path.read_bytes(), ".srt", "show.srt") == "text"
    assert discover([tmp_path]).files == [path]
    [doc] = load_file(path)
    assert doc.title == "节目字幕" and SENTENCE in doc.text


def test_register_rejects_badly_written_suffixes(monkeypatch):
    monkeypatch.setattr(registry, "_BY_SUFFIX", dict(registry._BY_SUFFIX))

    class Bad:
        name, suffixes, kind, description = "bad", ("PPTX",), "text", "坏格式"

    with pytest.raises(ValueError, match="PPTX"):
        registry.register(Bad())


def test_extracted_serialises_itself():
    e = Extracted("正文", "标题")
    assert Extracted.from_dict(e.to_dict()) == e


# ------------------------------------------------------------------ docx


def test_docx_built_with_python_docx(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("科技金融体制改革", level=1)
    document.add_paragraph("党的二十届三中全会提出，构建同科技创新相适应的科技金融体制。")
    document.add_paragraph("")
    document.add_paragraph("当前，我国已初步建立科技—产业—金融良性循环体系。")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "试点城市"
    table.rows[0].cells[1].text = "北京、上海"
    path = tmp_path / "report.docx"
    document.save(path)

    assert sniff_kind(path.read_bytes(), ".docx") == "docx"
    [doc] = load_file(path)
    assert doc.title == "科技金融体制改革"
    assert doc.text.splitlines()[0] == doc.title
    assert "构建同科技创新相适应的科技金融体制。" in doc.text
    assert "当前，我国已初步建立科技—产业—金融良性循环体系。" in doc.text
    assert "试点城市" in doc.text and "北京、上海" in doc.text


def test_html_keeps_blocks_as_lines_and_drops_scripts(tmp_path):
    html = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>园区动态</title>
    <style>p { color: red; }</style><script>var secret = "不要出现";</script></head>
    <body><h1>无锡高新区：54个项目落户太湖湾科创城</h1>
    <p>3月28日，无锡高新区举行一季度重大项目<b>集中签约</b>活动，共签约54个项目。</p>
    <div>总投资额达<span>460亿元</span>。</div><noscript>请启用脚本</noscript></body></html>"""
    path = _write(tmp_path, "news.html", html.encode("utf-8"))
    [doc] = load_file(path)
    assert doc.title == "无锡高新区：54个项目落户太湖湾科创城"  # the page headline, not <title>
    assert "var secret" not in doc.text and "不要出现" not in doc.text and "color" not in doc.text
    assert "请启用脚本" not in doc.text
    lines = doc.text.splitlines()
    assert "3月28日，无锡高新区举行一季度重大项目集中签约活动，共签约54个项目。" in lines
    assert "总投资额达460亿元。" in lines
    assert lines[0] == doc.title


def test_html_without_h1_takes_its_title_from_the_title_tag(tmp_path):
    html = "<html><head><title>园区动态</title></head><body><p>" + SENTENCE + "</p></body></html>"
    [doc] = load_file(_write(tmp_path, "page.htm", html.encode("utf-8")))
    assert doc.title == "园区动态"
    assert doc.text == "园区动态\n" + SENTENCE


def test_html_in_gbk_is_decoded(tmp_path):
    html = '<html><head><meta charset="gbk"></head><body><p>' + SENTENCE + "</p></body></html>"
    path = _write(tmp_path, "gbk.htm", html.encode("gbk"))
    assert SENTENCE in read_text(path)


def test_markdown_marks_are_removed(tmp_path):
    md = "# 会议纪要\n\n" + SENTENCE + "\n\n---\n\n**重点**：见[会议公报](https://example.org/a)。\n"
    path = _write(tmp_path, "notes.md", md.encode("utf-8"))
    [doc] = load_file(path)
    assert doc.title == "会议纪要"
    assert doc.text.split("\n") == ["会议纪要", SENTENCE, "重点：见会议公报。"]


@pytest.mark.parametrize("style", ["Title", "Heading 1", "bold-large"])
def test_docx_title_styles_and_title_paragraphs(tmp_path, style):
    path = make_docx(tmp_path / "report.docx", TITLE, BODY, style=style)
    [doc] = load_file(path)
    assert doc.title == TITLE


def test_docx_long_heading_is_still_the_title(tmp_path):
    long_title = "青澜湾海藻养殖合作社带动三个渔村一百二十户渔民增收致富的经验与启示及其对沿海乡村振兴的意义"
    [doc] = load_file(make_docx(tmp_path / "long.docx", long_title, ["来源：青澜日报", *BODY]))
    assert (doc.title, doc.publication) == (long_title, "青澜日报")


def test_docx_whose_first_paragraph_is_body_text_is_named_after_the_file(tmp_path):
    import docx

    document = docx.Document()
    for line in BODY:
        document.add_paragraph(line)
    path = tmp_path / "合作社简介.docx"
    document.save(path)
    [doc] = load_file(path)
    assert doc.title == "合作社简介"  # not 「青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵…」


# ------------------------------------------------------------------ pdf


def test_pdf_title_comes_from_the_large_font_even_after_a_small_label(tmp_path):
    path = make_pdf(tmp_path / "a.pdf", TITLE, ["来源：青澜日报", *BODY], label="要闻")
    [doc] = load_file(path)
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")


def test_pdf_title_over_two_lines(tmp_path):
    long_title = "青澜湾海藻养殖合作社带动三个渔村一百二十户渔民增收致富"
    path = make_pdf(tmp_path / "a.pdf", long_title, BODY)
    [doc] = load_file(path)
    assert doc.title.replace(" ", "") == long_title


def test_pdf_without_a_title_falls_back_to_the_file_name(tmp_path):
    path = make_pdf(tmp_path / "合作社简介.pdf", "", BODY)  # no large-font line: the body starts at once
    [doc] = load_file(path)
    assert doc.title == "合作社简介"


def test_pdf_without_a_text_layer_needs_ocr(tmp_path):
    import pymupdf

    document = pymupdf.open()
    page = document.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
    pix.clear_with(200)
    page.insert_image(pymupdf.Rect(72, 72, 400, 400), pixmap=pix)  # a "scan": an image, no text
    page.draw_rect(pymupdf.Rect(50, 50, 500, 500))
    path = tmp_path / "扫描件.pdf"
    document.save(path)
    with pytest.raises(LoadError) as err:
        load_file(path)
    message = str(err.value)
    assert "扫描件.pdf" in message and "OCR" in message and "文字层" in message


def _make_pdf(path: Path, pages: list[list[str]]) -> None:
    """A real multi-page PDF with CJK text, drawn by matplotlib (fonts-noto-cjk)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.font_manager import FontProperties

    candidates = sorted(Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.tt*"))
    if not candidates:
        pytest.skip("fonts-noto-cjk is not installed")
    font = FontProperties(fname=str(candidates[0]))
    with PdfPages(path) as pdf:
        for lines in pages:
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines):
                fig.text(0.08, 0.95 - i * 0.03, line, fontproperties=font, fontsize=11)
            pdf.savefig(fig)
            plt.close(fig)


def test_pdf_with_chinese_text_is_read_cleaned_and_split(tmp_path):
    body = (
        "中央经济工作会议12月11日至12日在北京举行。会议提出，必须坚持深化供给侧结构性改革和着力扩大有效需求"
        "协同发力，发挥超大规模市场和强大生产能力的优势，使国内大循环建立在内需主动力的基础上，提升国际循环"
        "质量和水平。在着力扩大国内需求方面，会议提到，要激发有潜能的消费，扩大有效益的投资，形成消费和投资"
        "相互促进的良性循环。推动消费从疫后恢复转向持续扩大，培育壮大新型消费，大力发展数字消费、绿色消费、"
        "健康消费，积极培育智能家居、文娱旅游、体育赛事、国货“潮品”等新的消费增长点。"
    )
    wrapped = [body[i:i + 30] for i in range(0, len(body), 30)]
    page1 = ["聚焦", "中央经济工作会议：形成消费和投资相互促进的良性循环"] + wrapped[:4] + ["1"]
    page2 = wrapped[4:] + ["来源：21 世纪经济报道", "易会满：更好发挥资本市场枢纽功能",
                           "证监会将坚持问题导向，守正创新，推出更多务实举措。", "来源：新华社", "2"]
    path = tmp_path / "issue.pdf"
    _make_pdf(path, [page1, page2])

    assert sniff_kind(path.read_bytes(), ".pdf") == "pdf"
    assert "中央经济工作会议" in read_text(path)
    docs = load_file(path)
    assert [d.title for d in docs] == [
        "中央经济工作会议：形成消费和投资相互促进的良性循环",
        "易会满：更好发挥资本市场枢纽功能",
    ]
    assert [d.publication for d in docs] == ["21世纪经济报道", "新华社"]
    assert body in docs[0].text  # the page break and the hard wraps are gone
    assert "聚焦" not in docs[0].text
    assert not any(line.strip() in {"1", "2"} for d in docs for line in d.text.splitlines())


def test_pdf_without_text_is_rejected(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    path = tmp_path / "chart.pdf"
    fig.savefig(path)
    plt.close(fig)
    with pytest.raises(LoadError, match=r"chart\.pdf 没有文字"):
        load_file(path)


def test_truncated_pdf_is_a_load_error(tmp_path):
    path = _write(tmp_path, "broken.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    with pytest.raises(LoadError, match="broken.pdf"):
        load_file(path)



def test_html_article_page_with_meta_spans_and_navigation(tmp_path):
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>青澜网 - 新闻</title></head><body>"
        "<nav><a href='/'>首页</a> <a href='/news'>新闻</a></nav>"
        f"<h1>{TITLE}</h1><div class='info'><span>来源：青澜日报</span><span>2024-03-05 10:20</span></div>"
        + "".join(f"<p>{l}</p>" for l in BODY)
        + "<footer>版权所有 © 青澜网</footer></body></html>"
    )
    [doc] = load_file(_write(tmp_path, "news.html", html.encode("utf-8")))
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")
    assert all(line in doc.text for line in BODY)
    assert "首页" not in doc.text and "版权所有" not in doc.text  # navigation and page footer dropped


def test_password_protected_pdf_says_to_remove_the_password(tmp_path):
    import pymupdf

    path = make_pdf(tmp_path / "plain.pdf", TITLE, BODY)
    locked = tmp_path / "locked.pdf"
    document = pymupdf.open(path)
    document.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    document.close()
    with pytest.raises(LoadError, match="locked.pdf 设有密码"):
        load_file(locked)


def test_html_title_tag_without_the_site_name(tmp_path):
    html = f"<html><head><title>{TITLE}_新闻_青澜网</title></head><body><p>{BODY[0]}</p><p>{BODY[1]}</p></body></html>"
    [doc] = load_file(_write(tmp_path, "page.html", html.encode("utf-8")))
    assert doc.title == TITLE


def test_markdown_front_matter_title_and_quoted_source(tmp_path):
    md = f"---\ntitle: \"{TITLE}\"\ndate: 2024-03-05\n---\n\n> 来源：青澜日报\n\n{BODY[0]}\n\n**{BODY[1]}**\n"
    [doc] = load_file(_write(tmp_path, "post.md", md.encode("utf-8")))
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")
    assert doc.text.split("\n") == [TITLE, *BODY]


def test_pdf_newsletter_masthead_and_contents_are_not_the_title(tmp_path):
    import pymupdf

    later = "新型监测浮标可以实时记录水温、盐度和溶解氧，数据每十分钟上传一次，为养殖户提供预警信息。"
    document = pymupdf.open()
    page = document.new_page()
    page.insert_font(fontname="cjk", fontfile=str(CJK_FONT))
    y = 60.0

    def put(text: str, size: float) -> None:
        nonlocal y
        page.insert_text((60, y), text, fontsize=size, fontname="cjk")
        y += size * 1.6

    put("海湾通讯", 28)  # masthead
    put("2024年第3期（总第30期）", 10)
    put(f"{TITLE}……………………2", 10)  # table of contents
    put("海湾观察站启用新型监测浮标…………3", 10)
    put(TITLE, 16)
    for line in BODY:
        for i in range(0, len(line), 36):
            put(line[i:i + 36], 10)
    put("来源：青澜日报", 10)
    put("海湾观察站启用新型监测浮标", 16)
    for i in range(0, len(later), 36):
        put(later[i:i + 36], 10)
    put("来源：海湾观察", 10)
    path = tmp_path / "newsletter.pdf"
    document.save(path)
    docs = load_file(path)
    assert [(d.title, d.publication) for d in docs] == [(TITLE, "青澜日报"), ("海湾观察站启用新型监测浮标", "海湾观察")]
    assert all("海湾通讯" not in d.text and "……" not in d.text and "⋯" not in d.text for d in docs)


def test_docx_section_label_before_the_heading_is_not_the_title(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph().add_run("要闻").bold = True
    document.add_heading(TITLE, level=1)
    document.add_paragraph("来源：青澜日报")
    for line in BODY:
        document.add_paragraph(line)
    path = tmp_path / "label.docx"
    document.save(path)
    [doc] = load_file(path)
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")


def test_docx_newsletter_whose_titles_are_only_bold_splits_into_its_articles(tmp_path):
    """A Word newsletter whose writer bolded the headlines instead of styling them (held-out kb7's 118 loaded as one
    document titled by its masthead): each bold headline over body text starts an article; the bold masthead lines,
    standing over one another, start none."""
    import docx

    document = docx.Document()
    for line in ("澄川汽车流通观察", "2026年第11期（总第87期）", "2026年11月20日"):
        document.add_paragraph().add_run(line).bold = True
    titles = ("前三季度澄川二手车交易量首超新车销量", "车易达：一个二手车电商平台的七年")
    for title in titles:
        document.add_paragraph().add_run(title).bold = True
        for line in BODY * 2:  # an article holds at least MIN_ARTICLE_CHARS
            document.add_paragraph(line)
    path = tmp_path / "bold.docx"
    document.save(path)
    docs = load_file(path)
    assert [d.title for d in docs] == list(titles)
    assert all("澄川汽车流通观察" not in d.title for d in docs)


def test_pdf_large_section_label_above_the_title_is_not_the_title(tmp_path):
    import pymupdf

    document = pymupdf.open()
    page = document.new_page()
    page.insert_font(fontname="cjk", fontfile=str(CJK_FONT))
    page.insert_text((60, 60), "要闻", fontsize=14, fontname="cjk")
    page.insert_text((60, 90), TITLE, fontsize=20, fontname="cjk")
    y = 125.0
    for line in ["来源：青澜日报", *BODY]:
        for i in range(0, len(line), 36):
            page.insert_text((60, y), line[i:i + 36], fontsize=10, fontname="cjk")
            y += 16
    path = tmp_path / "label.pdf"
    document.save(path)
    [doc] = load_file(path)
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")


# ------------------------------------------------------------------ newsletters split at their headings
# Three articles, no 来源/作者 line anywhere: only the file's headings say where each begins.

NEWSLETTER = [
    ("青澜湾海藻养殖合作社带动渔村增收", [
        "青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵头，带动周边三个渔村的一百二十户渔民参与养殖。",
        "合作社采用“合作社+农户”的模式，统一提供苗种和技术指导，统一收购和销售，去年海藻产量达到八百吨，社员人均增收一万二千元。",
        "今年合作社又建起了一座海藻加工厂，把鲜海藻加工成海藻粉和即食海藻，产品销往长三角的二十多家超市，附加值提高了三倍。",
    ]),
    ("海湾观察站启用新型监测浮标", [
        "海湾观察站本月启用了十套新型监测浮标，可以实时记录水温、盐度和溶解氧，数据每十分钟上传一次，为养殖户提供预警信息。",
        "观察站负责人周明介绍，浮标由本地一家电子企业研制，成本只有进口设备的三分之一，太阳能供电，一次布放可以连续工作半年。",
        "去年夏天，湾内曾因溶解氧骤降损失了一批扇贝。有了浮标以后，养殖户能提前半天收到手机提醒，及时增氧或者转移网箱。",
    ]),
    ("渔港小学开设海洋科普课", [
        "渔港小学本学期开设了海洋科普课，每周一节，由海湾观察站的研究人员和村里的退休老渔民轮流授课，全校六个年级都参加。",
        "学生们在课上认识了四十多种海藻和贝类，学会了看潮汐表，还到合作社的养殖区实地观察海藻从育苗到收割的生长过程。",
        "校长说，孩子们生在海边、长在海边，更应该了解大海、爱护大海。学校准备把课上的观察记录编成一本乡土教材，明年秋季使用。",
    ]),
]
# One article whose sections are headed 一、二、三 (each long enough to pass for an article).
REPORT_TITLE = "青澜湾海藻产业发展调查报告"
REPORT = [(f"{n}、{head}", body) for n, (head, body) in zip("一二三", [
    ("合作社的组建", NEWSLETTER[0][1]), ("监测体系的建设", NEWSLETTER[1][1]), ("科普教育的开展", NEWSLETTER[2][1])])]
REPORT_LEAD = "本报告根据二〇二四年春季的实地调查写成，记录青澜湾海藻产业的组织、监测和教育三个方面。"


def _docx_sections(path: Path, sections, *, top: str = "", lead: str = "", style: str = "Heading 1",
                   sub_style: str = "") -> Path:
    """A Word file: an optional top heading (Title style) and lead, then each section's heading and paragraphs."""
    import docx

    document = docx.Document()
    if top:
        document.add_paragraph(top, style="Title")
    if lead:
        document.add_paragraph(lead)
    for heading, body in sections:
        document.add_paragraph(heading, style=style)
        for line in body:
            document.add_paragraph(line)
    document.save(path)
    return path


def _docx_with_chinese_styles(path: Path) -> Path:
    """Headings in styles named 标题 1 (as WPS and Chinese templates name them) and in a style known only by its outline level."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    named = document.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)
    named.font.size = docx.shared.Pt(16)
    outlined = document.styles.add_style("栏目文章标题", WD_STYLE_TYPE.PARAGRAPH)
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), "0")  # outline level 1
    outlined.element.get_or_add_pPr().append(level)
    for k, (heading, body) in enumerate(NEWSLETTER):
        document.add_paragraph(heading, style="栏目文章标题" if k == 1 else "标题 1")
        for line in body:
            document.add_paragraph(line)
    document.save(path)
    return path


def _pdf_sections(path: Path, sections, *, top: str = "", lead: str = "", size: float = 16) -> Path:
    """A real PDF (PyMuPDF, Noto CJK): the top heading at 22 pt, section headings at ``size``, the body at 10.5 pt hard-wrapped."""
    import pymupdf

    if not CJK_FONT.exists():
        pytest.skip("fonts-noto-cjk is not installed")
    document = pymupdf.open()
    page, y = None, 0.0

    def put(text: str, fontsize: float, gap: float = 0) -> None:
        nonlocal page, y
        if page is None or y > 780:
            page = document.new_page()
            page.insert_font(fontname="cjk", fontfile=str(CJK_FONT))
            y = 60.0
        y += gap
        page.insert_text((60, y), text, fontsize=fontsize, fontname="cjk")
        y += fontsize * 1.6

    def paragraph(text: str) -> None:
        for i in range(0, len(text), 36):
            put(text[i:i + 36], 10.5)

    if top:
        put(top, 22)
    if lead:
        paragraph(lead)
    for heading, body in sections:
        put(heading, size, gap=8)
        for line in body:
            paragraph(line)
    document.save(path)
    document.close()
    return path


def _md_sections(path: Path, sections, *, top: str = "", lead: str = "", mark: str = "#") -> Path:
    parts = ([f"# {top}"] if top else []) + ([lead] if lead else [])
    for heading, body in sections:
        parts += [f"{mark} {heading}", *body]
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path


def _html_sections(path: Path, sections, *, top: str = "", lead: str = "", tag: str = "h2") -> Path:
    body = (f"<h1>{top}</h1>" if top else "") + (f"<p>{lead}</p>" if lead else "")
    for heading, lines in sections:
        body += f"<section><{tag}>{heading}</{tag}>" + "".join(f"<p>{l}</p>" for l in lines) + "</section>"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>海湾通讯</title></head>"
                    f"<body><nav>首页 | 往期</nav><main>{body}</main></body></html>", encoding="utf-8")
    return path


NEWSLETTER_FILES = {
    "docx Heading 1": lambda p: _docx_sections(p / "issue.docx", NEWSLETTER),
    "docx Title masthead + Heading 2": lambda p: _docx_sections(p / "issue.docx", NEWSLETTER, top="海湾通讯",
                                                                 lead="2024年第3期", style="Heading 2"),
    "docx 标题 1 and outline level": lambda p: _docx_with_chinese_styles(p / "issue.docx"),
    "pdf font size": lambda p: _pdf_sections(p / "issue.pdf", NEWSLETTER),
    "pdf masthead + font size": lambda p: _pdf_sections(p / "issue.pdf", NEWSLETTER, top="海湾通讯"),
    "html h2 under a masthead h1": lambda p: _html_sections(p / "issue.html", NEWSLETTER, top="海湾通讯"),
    "html h1": lambda p: _html_sections(p / "issue.html", NEWSLETTER, tag="h1"),
    "md ##": lambda p: _md_sections(p / "issue.md", NEWSLETTER, top="海湾通讯", lead="2024年第3期", mark="##"),
    "md #": lambda p: _md_sections(p / "issue.md", NEWSLETTER),
}


@pytest.mark.parametrize("kind", sorted(NEWSLETTER_FILES))
def test_a_newsletter_without_source_lines_is_split_at_its_headings(tmp_path, kind):
    from rag.chunking import chunk_document
    from rag.config import ChunkSettings

    path = NEWSLETTER_FILES[kind](tmp_path)
    docs = load_file(path)
    assert [d.title for d in docs] == [title for title, _ in NEWSLETTER]
    for doc, (title, body) in zip(docs, NEWSLETTER):
        assert doc.text == "\n".join([title, *body])  # exactly its own text: no masthead, no neighbour
        assert doc.publication == ""
    for doc in docs:  # citations: every span slices the stored text and carries this article's title
        chunks = chunk_document(doc, ChunkSettings())
        assert chunks and all(doc.text[c.start:c.end] == c.text and c.title == doc.title for c in chunks)
    assert len({d.doc_id for d in docs}) == 3


SINGLE_FILES = {
    "docx Heading 1 title, Heading 2 一、二、三": lambda p: _docx_sections(
        p / "report.docx", REPORT, top=REPORT_TITLE, style="Heading 2"),
    "docx all Heading 1, 一、二、三": lambda p: _docx_sections(
        p / "report.docx", [(REPORT_TITLE, [REPORT_LEAD]), *REPORT]),
    "docx Title, lead, unnumbered Heading 1": lambda p: _docx_sections(
        p / "report.docx", [(h.split("、")[1], b) for h, b in REPORT], top=REPORT_TITLE, lead=REPORT_LEAD),
    "pdf large title, 一、二、三 in a medium font": lambda p: _pdf_sections(
        p / "report.pdf", REPORT, top=REPORT_TITLE, size=13),
    "pdf large title, lead, unnumbered medium headings": lambda p: _pdf_sections(
        p / "report.pdf", [(h.split("、")[1], b) for h, b in REPORT], top=REPORT_TITLE, lead=REPORT_LEAD, size=13),
    "md # title, ## 一、二、三": lambda p: _md_sections(p / "report.md", REPORT, top=REPORT_TITLE, mark="##"),
    "html h1 title, lead, unnumbered h2": lambda p: _html_sections(
        p / "report.html", [(h.split("、")[1], b) for h, b in REPORT], top=REPORT_TITLE, lead=REPORT_LEAD),
}


@pytest.mark.parametrize("kind", sorted(SINGLE_FILES))
def test_one_article_with_section_headings_stays_one_article(tmp_path, kind):
    path = SINGLE_FILES[kind](tmp_path)
    [doc] = load_file(path)
    assert doc.title == REPORT_TITLE
    for heading, body in REPORT:
        assert heading.split("、")[1] in doc.text  # the section headings stay in the text
        assert all(line in doc.text for line in body)


def test_a_newsletter_with_source_lines_and_headings_keeps_its_publications(tmp_path):
    sections = [(title, ["来源：青澜日报", *body]) for title, body in NEWSLETTER]
    docs = load_file(_docx_sections(tmp_path / "issue.docx", sections))
    assert [(d.title, d.publication) for d in docs] == [(title, "青澜日报") for title, _ in NEWSLETTER]
    assert all("来源" not in d.text for d in docs)


def test_a_heading_level_with_a_too_short_section_does_not_split(tmp_path):
    from rag.loading.headings import MIN_ARTICLE_CHARS

    short = ("简讯", ["海湾观察站下周开放参观。"])
    assert len(short[1][0]) < MIN_ARTICLE_CHARS
    [doc] = load_file(_docx_sections(tmp_path / "issue.docx", [*NEWSLETTER[:2], short]))
    assert doc.title == NEWSLETTER[0][0]  # one article, as before headings split files
    assert "海湾观察站下周开放参观。" in doc.text
