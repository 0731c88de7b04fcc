"""Loading: real files on disk → cleaned text → articles.

Encodings and formats are written to tmp_path as real files (a Word document built
with python-docx, a PDF drawn by matplotlib with a CJK font, HTML with scripts).
The corpus tests pin what reading the five sample issues showed: article counts,
titles, publications, and the absence of layout debris.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loading import (
    SUPPORTED_SUFFIXES,
    clean_text,
    decode_bytes,
    find_files,
    load_file,
    read_text,
    sniff_kind,
    split_articles,
)
from rag.schema import Document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SENTENCE = "中央经济工作会议12月11日至12日在北京举行，会议提出扩大有效需求。"
CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    "encoded",
    [
        SENTENCE.encode("utf-8"),
        b"\xef\xbb\xbf" + SENTENCE.encode("utf-8"),
        SENTENCE.encode("gb18030"),
        SENTENCE.encode("gbk"),
        b"\xff\xfe" + SENTENCE.encode("utf-16-le"),
        b"\xfe\xff" + SENTENCE.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16le-bom", "utf16be-bom"],
)
def test_encodings_round_trip_through_a_real_file(tmp_path, encoded):
    path = _write(tmp_path, "note.txt", encoded)
    assert decode_bytes(encoded, "note.txt") == SENTENCE
    assert read_text(path) == SENTENCE
    [doc] = load_file(path)
    assert SENTENCE in doc.text
    assert doc.source == "note.txt"


def test_gb18030_text_longer_than_a_sentence_is_not_mistaken_for_binary(tmp_path):
    text = "\n".join([SENTENCE] * 50 + ["数据来源：国家统计局，2023年1—10月。"])
    assert decode_bytes(text.encode("gb18030")) == text


def test_utf8_with_one_damaged_byte_is_not_read_as_gb18030():
    data = (SENTENCE * 20).encode("utf-8")
    damaged = data[:100] + b"\xff" + data[101:]
    text = decode_bytes(damaged, "damaged.txt")
    assert 1 <= text.count("\ufffd") <= 3  # one broken character, not mojibake
    assert text.count(SENTENCE) == 19


def test_crlf_line_ends_become_newlines():
    assert decode_bytes("第一行。\r\n第二行。\r\n".encode("utf-8")) == "第一行。\n第二行。\n"


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("picture.txt", PNG + bytes(range(256)) * 4, "PNG"),
        ("nul.txt", b"abc\x00\x00\x00def" * 20, "二进制"),
        ("controls.txt", ("正文" + "\x01\x02\x03\x04" * 10).encode("utf-8"), "二进制"),
        ("gibberish.txt", bytes([0x80, 0xFF, 0xFE, 0x81, 0x9F, 0xA0]) * 40, "不是可读的文本"),
    ],
)
def test_binary_or_undecodable_files_are_rejected_naming_the_file(tmp_path, name, data, words):
    path = _write(tmp_path, name, data)
    with pytest.raises(LoadError) as err:
        load_file(path)
    assert name in str(err.value)
    assert words in str(err.value)


def test_bad_utf16_after_bom_is_rejected():
    with pytest.raises(LoadError, match="utf-16-le"):
        decode_bytes(b"\xff\xfe" + b"\x00\xd8", "odd.txt")  # lone surrogate


@pytest.mark.parametrize("data", [b"", b"   \n\t\n  ", "\ufeff".encode("utf-8") + b"\n\n"])
def test_empty_files_are_rejected(tmp_path, data):
    path = _write(tmp_path, "empty.txt", data)
    with pytest.raises(LoadError, match="empty.txt"):
        load_file(path)


def test_unsupported_suffix_is_rejected(tmp_path):
    path = _write(tmp_path, "table.csv", "a,b\n1,2\n".encode("utf-8"))
    with pytest.raises(LoadError, match=r"table\.csv.*\.csv"):
        load_file(path)


def test_missing_file_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="不存在"):
        read_text(tmp_path / "nope.txt")


# ------------------------------------------------------------------ sniffing


def test_sniff_kind_by_content():
    assert sniff_kind(SENTENCE.encode("utf-8"), ".txt") == "text"
    assert sniff_kind(SENTENCE.encode("utf-8"), ".md") == "text"
    assert sniff_kind(b"<!DOCTYPE html><html><body><p>hi</p></body></html>", ".html") == "html"
    assert sniff_kind(b"<html><body><p>hi</p></body></html>", "") == "html"
    assert sniff_kind(b"%PDF-1.7\n...", ".pdf") == "pdf"
    assert sniff_kind(SENTENCE.encode("utf-8"), "") == "text"


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("photo.txt", PNG, "PNG 图片"),
        ("scan.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("fake.pdf", SENTENCE.encode("utf-8"), "与扩展名 .pdf 不符"),
        ("fake.docx", SENTENCE.encode("utf-8"), "与扩展名 .docx 不符"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Office"),
    ],
)
def test_sniff_kind_rejects_content_that_does_not_match_the_suffix(name, data, message):
    with pytest.raises(LoadError) as err:
        sniff_kind(data, Path(name).suffix, name)
    assert name in str(err.value) and message in str(err.value)


def test_zip_that_is_not_a_word_document_is_rejected(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match="archive.docx 是ZIP 压缩包"):
        load_file(path)


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".pdf", ".docx", ".html", ".htm")


# ------------------------------------------------------------------ formats


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


# ------------------------------------------------------------------ clean_text

WRAPPED = """
 聚焦

中央经济工作会议：形成消费和投资相互促进的良性循环

中央经济工作会议 12 月 11 日至 12 日在北京举行。会议提出，必须坚持深

化供给侧结构性改革和着力扩大有效需求协同发力，发挥超大规模市场和强大生

产能力的优势，使国内大循环建立在内需主动力的基础上，提升国际循环质量和

水平。

在着力扩大国内需求方面，会议提到，要激发有潜能的消费，扩大有效益的

投资，形成消费和投资相互促进的良性循环。推动消费从疫后恢复转向持续扩大，

培育壮大新型消费，大力发展数字消费、绿色消费、健康消费，积极培育智能家

图片来源：视觉中国

居、文娱旅游、体育赛事、国货“潮品”等新的消费增长点。稳定和扩大传统消

费，提振新能源汽车、电子产品等大宗消费。



18

增加城乡居民收入

北京大学国民经济研究中心主任苏剑接受 21 世纪经济报道记者采访表示，

从消费到投资，居民有消费预期，企业也更愿意去投资，也才可能有高效益的投

资回报。VC/PE 机构与 Blackstone Private Equity Strategies Fund 的 LP 都在

观望，2023 年 1—10 月份社会消费品零售总额达 38.5 万亿元。

来源：21 世纪经济报道
"""


def test_clean_text_joins_hard_wrapped_sentences():
    lines = clean_text(WRAPPED).split("\n")
    assert (
        "中央经济工作会议12月11日至12日在北京举行。会议提出，必须坚持深化供给侧结构性改革和着力扩大"
        "有效需求协同发力，发挥超大规模市场和强大生产能力的优势，使国内大循环建立在内需主动力的基础上，"
        "提升国际循环质量和水平。"
    ) in lines
    # The caption sat in the middle of a sentence; the sentence is whole again.
    assert any("积极培育智能家居、文娱旅游、体育赛事" in line for line in lines)


def test_clean_text_keeps_headings_and_source_lines_on_their_own():
    lines = clean_text(WRAPPED).split("\n")
    assert lines[0] == "聚焦"
    assert lines[1] == "中央经济工作会议：形成消费和投资相互促进的良性循环"
    assert "增加城乡居民收入" in lines
    assert lines[-1] == "来源：21世纪经济报道"


def test_clean_text_drops_page_numbers_and_captions():
    text = clean_text(WRAPPED)
    assert "18" not in text.split("\n")
    assert "图片来源" not in text and "视觉中国" not in text


def test_clean_text_spaces():
    text = clean_text(WRAPPED)
    assert "12月11日至12日" in text  # Chinese next to numbers: no space
    assert "21世纪经济报道" in text
    assert "38.5万亿元" in text and "2023年1—10月份" in text
    assert "Blackstone Private Equity Strategies Fund的LP" in text  # Latin words keep one space
    assert "VC/PE机构" in text
    assert not CJK_SPACE_CJK.search(text)


def test_clean_text_spaces_between_chinese_characters_are_removed_in_sentences():
    assert clean_text("在百奥赛图成立之初，团队首先是组建基因编辑团队对客户 提供基因编辑服务。") == (
        "在百奥赛图成立之初，团队首先是组建基因编辑团队对客户提供基因编辑服务。"
    )
    assert clean_text("从引领“养鼠”生意到探路全球新药发源地： 百奥赛图创业征途步履不停") == (
        "从引领“养鼠”生意到探路全球新药发源地：百奥赛图创业征途步履不停"
    )


def test_clean_text_keeps_the_space_between_headline_and_subtitle():
    assert clean_text("易会满：更好发挥资本市场枢纽功能 推出更多务实举措") == (
        "易会满：更好发挥资本市场枢纽功能 推出更多务实举措"
    )


def test_clean_text_drops_table_of_contents_and_masthead():
    raw = (
        "\n\n江苏创业投资\n\nJIANGSU VENTURE CAPITAL\n\n2023 年第 4 期（总第 230 期）\n\n"
        "江苏省创业投资协会 主办\n\n2023 年 4 月 30 日\n\n创业投资\t3\n"
        "海尔资本：兼具产业资源与市场化能力\t7\n产业公司\t11\n武汉筑起“中国氢都”\t11\n\n"
        "海尔资本：兼具产业资源与市场化能力\n\n做 CVC 投资最大的挑战，就在于财务收益与产业协同之间寻求平衡。\n"
    )
    assert clean_text(raw).split("\n") == [
        "海尔资本：兼具产业资源与市场化能力",
        "做CVC投资最大的挑战，就在于财务收益与产业协同之间寻求平衡。",
    ]


def test_clean_text_drops_running_headers_repeated_on_every_page():
    page = "江苏创业投资\n\n{}\n\n{}\n"
    raw = "".join(
        page.format(f"第{i}段内容，这里是一个完整的句子。", i + 1) for i in range(4)
    )
    lines = clean_text(raw).split("\n")
    assert "江苏创业投资" not in lines
    assert lines == [f"第{i}段内容，这里是一个完整的句子。" for i in range(4)]


def test_clean_text_one_paragraph_per_line_broken_at_a_page_end():
    long = "要实现“科技—产业—金融”良性循环发展，需要突破以往依赖不动产或者固定资产抵押的信贷模式，优化金融供给。"
    raw = "\n".join([
        "一、关于新质生产力",
        long * 2,
        "随着人工智能、生物技术、新能源技术等领域的发展，劳",
        "动对象的范围扩大。生产力三要素的质变，必然导致新质跃升。",
        "（一）新质生产力",
        long,
        "1. 创新的内涵",
        long,
        "2. 创新的四个环节",
    ])
    lines = clean_text(raw).split("\n")
    assert "随着人工智能、生物技术、新能源技术等领域的发展，劳动对象的范围扩大。生产力三要素的质变，必然导致新质跃升。" in lines
    assert "（一）新质生产力" in lines and "1.创新的内涵" in lines


def test_clean_text_reattaches_a_speaker_split_from_the_quote():
    text = clean_text("“成了大家现在关注的焦点。”\n\n金域医学算法总监刘斯表示。")
    assert text == "“成了大家现在关注的焦点。”金域医学算法总监刘斯表示。"


# ------------------------------------------------------------------ split_articles


def test_split_articles_on_a_small_issue():
    text = "\n".join([
        "创业投资",
        "VC/PE行业进入投资范式调整期",
        "“专精特新”企业成投资香饽饽",
        "近年来，人民币基金和美元基金的投资范式都在发生重大变化。",
        "图片来源：视觉中国",
        "投资“专精特新”企业，逐渐成为新的风向标。",
        "来源：21世纪经济报道",
        "以法治保障民营经济高质量发展",
        "◎张俊芳 张明喜",
        "民营经济已经成为推动我国发展不可或缺的力量。",
        "（作者系河南省社会科学院法学研究所研究员）",
        "来源: 经济参考报  ",
        "《江苏创业投资》联系方式：",
        "电话：025-83303470",
    ])
    docs = split_articles(text, "issue.txt")
    assert [d.title for d in docs] == [
        "VC/PE行业进入投资范式调整期 “专精特新”企业成投资香饽饽",
        "以法治保障民营经济高质量发展",
    ]
    assert [d.publication for d in docs] == ["21世纪经济报道", "经济参考报"]
    assert docs[0].text.splitlines()[0] == docs[0].title
    assert "图片来源：视觉中国" in docs[0].text  # not an article end
    assert "创业投资" not in docs[0].text  # section label
    assert "◎张俊芳 张明喜" in docs[1].text  # the byline belongs to the article
    assert all("来源：21" not in d.text and "来源: 经济" not in d.text for d in docs)
    assert all("联系方式" not in d.text for d in docs)  # back matter is no article
    assert all(d.source == "issue.txt" for d in docs)


def test_split_articles_without_source_lines_is_one_article():
    docs = split_articles("发展未来产业\n国家“十四五”规划纲要提出，培育先导性和支柱性产业。", "a.txt")
    assert [(d.title, d.publication) for d in docs] == [("发展未来产业", "")]


def test_split_articles_gives_a_title_to_text_without_a_headline():
    docs = split_articles("这是第一句话，没有标题。这是第二句话。", "plain.txt")
    assert docs[0].title == "plain"  # the file name, not a cut sentence


def test_split_articles_takes_a_headline_printed_after_its_article():
    text = "\n".join([
        "加快构建科技金融体制",
        "◎张俊芳",
        "第一篇文章的正文。",
        "(作者系研究员)",
        "◎林坚",
        "第二篇文章的正文，标题被排在了文末。",
        "(作者系中国人民大学研究员)",
        "营造良好的创新生态",
        "青岛崂山区：在“更新”中让城市更聪明",
        "第三篇文章的正文。",
        "图文及数据来源：青岛市崂山区委宣传部",
    ])
    docs = split_articles(text, "x.txt")
    assert [d.title for d in docs] == ["加快构建科技金融体制", "营造良好的创新生态", "青岛崂山区：在“更新”中让城市更聪明"]
    assert docs[2].publication == "青岛市崂山区委宣传部"
    assert "第二篇文章的正文" in docs[1].text


# ------------------------------------------------------------------ the sample corpus

EXPECTED = {
    "000_3556a2b9438e57bc.txt": [
        ("中央经济工作会议：形成消费和投资相互促进的良性循环", "21世纪经济报道"),
        ("易会满：更好发挥资本市场枢纽功能 推出更多务实举措", "21世纪经济报道"),
        ("VC/PE行业进入投资范式调整期 “专精特新”企业成投资香饽饽", "21世纪经济报道"),
        ("专访中科院创投刘克峰：发挥创投机构的发现与链接作用 助力科技成果转化", "21世纪经济报道"),
        ("建设新型科技孵化体系 推动专精特新企业发展", "经济参考报"),
        ("以法治保障民营经济高质量发展", "经济参考报"),
        ("人工智能辅助科研要从可用走向可信", "科技日报"),
        ("算力紧缺背景下提升训练推理效率迫在眉睫 “技术升级+一站构建”助大模型降本增效", "科技日报"),
        ("用“三心”服务打造引才品牌 昆山高新区构建人才引育“强磁场”", "中国高新技术产业导报报"),
        ("工业园到科创城精彩蝶变 无锡新加坡工业园踏上二次创业路", "中国高新技术产业导报报"),
    ],
    "001_ded5f9605ad5baf4.txt": [
        ("优化IPO等政策牵动一级市场：VC/PE投资出手愈加谨慎 退出寻求多元化方式", "21世纪经济报道"),
        ("美国大型PE调降管理费 破解募资难困局任重道远", "21世纪经济报道"),
        ("金融支持民营经济发展文件即将出台：多家头部银行已发布行动方案", "21世纪经济报道"),
        ("集聚1900多家金融机构 北京金融街有何魅力？", "21世纪经济报道"),
        ("专家：促进新经济新业态新就业联动发展", "经济参考报"),
        ("整合国家战略科技力量提升创新体系效能", "经济参考报"),
        ("AI大模型成企业智能化转型重要推手", "科技日报"),
        ("当“望闻问切”遇上人工智能", "科技日报"),
        ("南京高新区：党建激发创新澎湃动能", "中国高新技术产业导报"),
        ("南京“硅巷”为城市发展注入新动能", "中国高新技术产业导报"),
    ],
    "002_628442f445b26fe3.txt": [
        ("培育发展新质生产力 实现高水平科技创新", ""),
    ],
    "003_5e837ad3237b6fa0.txt": [
        ("从引领“养鼠”生意到探路全球新药发源地：百奥赛图创业征途步履不停", "21世纪经济报道"),
        ("海尔资本：兼具产业资源与市场化能力 探路CVC发展最佳形态", "21世纪经济报道"),
        ("武汉筑起“中国氢都” 跑出高质量发展加速度", "21世纪经济报道"),
        ("风光企业集体奔赴储能新事业 各自策略有何不同？", "21世纪经济报道"),
        ("着力打造企业主导的产学研深度融合创新联合体", "经济参考报"),
        ("发展未来产业要牢牢把握四个“未来”", "经济参考报"),
        ("AI赋能，让大城市会“思考”，更“聪明”", "科技日报"),
        ("人工智能从“大炼模型”到“炼大模型”", "科技日报"),
        ("无锡高新区：54个项目落户太湖湾科创城", "中国高新技术产业导报"),
        ("聚焦三大领域推进五大工程 常州高新区打造新能源之都核心区", "中国高新技术产业导报"),
    ],
    "004_a725a1633d20dd26.txt": [
        ("加快构建同创新相适应的科技金融体制", ""),
        ("营造良好的创新生态", ""),  # its headline is printed after the article
        ("青岛崂山区：在“更新”中让城市更聪明更智慧", "青岛市崂山区委宣传部"),
    ],
}


@pytest.fixture(scope="module")
def corpus_docs() -> dict[str, list[Document]]:
    return {name: load_file(CORPUS / name, root=CORPUS) for name in EXPECTED}


def test_corpus_files_are_all_covered():
    assert sorted(p.name for p in CORPUS.glob("*.txt")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_articles_titles_and_publications(corpus_docs, name):
    got = [(d.title, d.publication) for d in corpus_docs[name]]
    assert got == EXPECTED[name]


def _toc_titles(name: str) -> list[str]:
    """Titles as the issue's own table of contents prints them (tab-led or tab+page lines)."""
    lines = (CORPUS / name).read_text(encoding="utf-8").split("\n")
    toc = [re.sub(r"\t\s*\d*\s*$", "", l).strip() for l in lines if "\t" in l]
    return [re.sub(r"\s+", "", t) for t in toc if len(re.sub(r"\s+", "", t)) > 6]


@pytest.mark.parametrize("name", ["000_3556a2b9438e57bc.txt", "003_5e837ad3237b6fa0.txt"])
def test_titles_agree_with_the_issues_own_table_of_contents(corpus_docs, name):
    titles = [re.sub(r"\s+", "", d.title) for d in corpus_docs[name]]
    toc = [t for t in _toc_titles(name) if not t.startswith("常州高新区")]  # a subtitle line
    assert len(toc) == len(titles)
    for entry, title in zip(toc, titles):
        n = min(len(entry), len(title))
        assert entry[:n - 1] == title[:n - 1], (entry, title)  # TOC lines are sometimes cut short


def test_corpus_documents_are_clean(corpus_docs):
    for name, docs in corpus_docs.items():
        for doc in docs:
            assert doc.source == name
            assert doc.title.strip() and not doc.title.strip().isdigit()
            lines = doc.text.split("\n")
            assert lines[0] == doc.title
            for line in lines:
                assert line == line.strip() and line, (name, line)
                assert not re.fullmatch(r"\d{1,3}", line), f"page number left in {name}"
                assert "\t" not in line, f"table of contents left in {name}: {line!r}"
                assert not line.startswith("来源"), f"来源 line inside the text of {name}"
                assert "JIANGSU VENTURE CAPITAL" not in line
                assert "图片来源" not in line and not line.endswith("供图")
                headline = len(line) <= 40 and "。" not in line
                if not headline:  # headings may keep "title subtitle" spacing
                    assert not CJK_SPACE_CJK.search(line), (name, line)


def test_corpus_has_no_sentence_broken_across_lines(corpus_docs):
    """Every line is a finished paragraph, or short enough to be a heading."""
    broken = []
    for name, docs in corpus_docs.items():
        for doc in docs:
            for line in doc.text.split("\n")[1:]:
                finished = re.search(r"[。！？；…][”’）)]*$|[）)]$|……$", line)
                if not finished and len(line) > 40:
                    broken.append((name, line[-30:]))
    assert not broken


def test_corpus_keeps_all_the_article_text(corpus_docs):
    """Cleaning drops layout, not content: almost every raw character survives."""
    for name, docs in corpus_docs.items():
        raw = re.sub(r"\s+", "", (CORPUS / name).read_text(encoding="utf-8"))
        kept = sum(len(re.sub(r"\s+", "", d.text)) for d in docs)
        assert 0.9 * len(raw) <= kept <= len(raw) + sum(len(d.title) for d in docs), name


def test_corpus_spot_checks(corpus_docs):
    first = corpus_docs["000_3556a2b9438e57bc.txt"][0].text
    assert "中央经济工作会议12月11日至12日在北京举行。" in first
    hydrogen = corpus_docs["003_5e837ad3237b6fa0.txt"][2].text
    assert "至2035年，产业规模在2025年的基础上力争再翻一番" not in hydrogen  # other article
    last = corpus_docs["003_5e837ad3237b6fa0.txt"][-1].text
    assert "“发、储、送、用”四大环节实现深层次、高浓度的融合发展" in last
    medicine = corpus_docs["001_ded5f9605ad5baf4.txt"][7].text
    assert "成了大家现在关注的焦点。”广州金域医学检验集团股份有限公司" in medicine
    usa = corpus_docs["001_ded5f9605ad5baf4.txt"][1].text  # Latin words wrapped across lines
    assert "Tiger Global Private Investment Partners XVI的首次关账" in usa
    assert "包括将Messer Industries股份出售给梅塞尔" in usa
    report = corpus_docs["002_628442f445b26fe3.txt"][0].text
    assert "劳动对象的范围扩大。" in report and "(第3期)" not in report


def test_doc_ids_are_unique_and_stable(corpus_docs):
    ids = [d.doc_id for docs in corpus_docs.values() for d in docs]
    assert len(set(ids)) == len(ids)
    again = load_file(CORPUS / "004_a725a1633d20dd26.txt", root=CORPUS)
    assert [d.doc_id for d in again] == [d.doc_id for d in corpus_docs["004_a725a1633d20dd26.txt"]]


# ------------------------------------------------------------------ find_files / load_file


def test_find_files_expands_folders_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ["b/z.txt", "a.md", "b/c.HTML", "x.png", ".hidden.txt", ".git/config.txt",
                "~$lock.docx", "b/d.pdf"]:
        (tmp_path / rel).write_bytes(b"x")
    got = [p.relative_to(tmp_path).as_posix() for p in find_files([tmp_path])]
    assert got == ["a.md", "b/c.HTML", "b/d.pdf", "b/z.txt"]


def test_find_files_keeps_explicit_files_and_reports_missing_paths(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("a,b")
    assert find_files([f, f]) == [f]
    with pytest.raises(LoadError, match="不存在"):
        find_files([tmp_path / "missing"])


def test_load_file_source_is_relative_to_root(tmp_path):
    sub = tmp_path / "2024" / "十二月"
    sub.mkdir(parents=True)
    path = sub / "news.txt"
    path.write_text("标题\n" + SENTENCE, encoding="utf-8")
    [doc] = load_file(path, root=tmp_path)
    assert doc.source == "2024/十二月/news.txt"
    assert load_file(path)[0].source == "news.txt"
