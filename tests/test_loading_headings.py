"""rag.loading.headings: which heading level, if any, starts the articles of a file.

The rule is exercised on cleaned lines with the headings a reader would report;
tests/test_loading_formats.py runs it on real .docx, .pdf, .html and .md files.
"""

from __future__ import annotations

import pytest

from rag.loading import Extracted, Heading, split_articles
from rag.loading.headings import MIN_ARTICLE_CHARS, article_sections, find_lines

A, B, C = "青澜湾海藻养殖合作社带动渔村增收", "海湾观察站启用新型监测浮标", "渔港小学开设海洋科普课"
BODY = {  # three paragraphs each, every section longer than MIN_ARTICLE_CHARS
    A: ["青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵头，带动周边三个渔村的一百二十户渔民参与养殖。",
        "合作社采用“合作社+农户”的模式，统一提供苗种和技术指导，去年海藻产量达到八百吨，社员人均增收一万二千元。",
        "今年合作社又建起了一座海藻加工厂，把鲜海藻加工成海藻粉和即食海藻，产品销往长三角的二十多家超市。"],
    B: ["海湾观察站本月启用了十套新型监测浮标，可以实时记录水温、盐度和溶解氧，数据每十分钟上传一次。",
        "观察站负责人周明介绍，浮标由本地一家电子企业研制，成本只有进口设备的三分之一，一次布放可以连续工作半年。",
        "去年夏天，湾内曾因溶解氧骤降损失了一批扇贝。有了浮标以后，养殖户能提前半天收到手机提醒，及时增氧或者转移网箱。"],
    C: ["渔港小学本学期开设了海洋科普课，每周一节，由海湾观察站的研究人员和村里的退休老渔民轮流授课，全校六个年级都参加。",
        "学生们在课上认识了四十多种海藻和贝类，学会了看潮汐表，还到合作社的养殖区实地观察海藻从育苗到收割的生长过程。",
        "校长说，孩子们生在海边、长在海边，更应该了解大海、爱护大海，学校准备把观察记录编成一本乡土教材。"],
}


def issue(*titles: str, before: tuple[str, ...] = ()) -> str:
    return "\n".join([*before, *(line for t in titles for line in [t, *BODY[t]])])


def h(text: str, level: int = 1) -> Heading:
    return Heading(text, level)


def test_every_sample_section_is_long_enough_for_the_rule():
    assert all(sum(map(len, body)) >= MIN_ARTICLE_CHARS for body in BODY.values())


def test_the_top_heading_level_that_repeats_starts_the_articles():
    docs = split_articles(issue(A, B, C), "issue.docx", title=A, headings=(h(A), h(B), h(C)))
    assert [d.title for d in docs] == [A, B, C]
    assert [d.text for d in docs] == ["\n".join([t, *BODY[t]]) for t in (A, B, C)]


def test_without_headings_the_text_layouts_decide_as_before():
    text = issue(A, B, C)
    assert split_articles(text, "issue.txt", headings=()) == split_articles(text, "issue.txt")
    assert [d.title for d in split_articles(text, "issue.txt")] == [A]  # no 来源 lines: one article


def test_a_masthead_over_the_issue_line_is_passed_over_and_left_out():
    text = issue(A, B, before=("海湾通讯", "2024年第3期"))
    docs = split_articles(text, "issue.docx", headings=(h("海湾通讯", 0), h(A), h(B)))
    assert [d.title for d in docs] == [A, B]
    assert all("海湾通讯" not in d.text and "2024年第3期" not in d.text for d in docs)


def test_text_with_a_sentence_before_the_first_article_is_kept_as_an_article():
    note = "本期关注海藻产业、海洋监测和科普教育，欢迎读者来信交流。"
    docs = split_articles(issue(A, B, before=(note,)), "issue.docx", headings=(h(A, 2), h(B, 2)))
    assert [d.title for d in docs] == ["issue", A, B]
    assert note in docs[0].text


def test_a_single_title_with_a_lead_over_its_sections_is_one_article():
    lead = "本报告根据春季的实地调查写成，记录海藻产业的组织、监测和教育。"
    text = issue(A, B, before=("青澜湾海藻产业调查", lead))
    [doc] = split_articles(text, "report.docx", title="青澜湾海藻产业调查",
                           headings=(h("青澜湾海藻产业调查", 1), h(A, 2), h(B, 2)))
    assert doc.title == "青澜湾海藻产业调查" and A in doc.text and B in doc.text


@pytest.mark.parametrize("numbers", [("一、", "二、", "三、"), ("（一）", "（二）", "（三）"), ("1. ", "2. ", "3. "),
                                     ("1.1 ", "1.2 ", "1.3 "), ("第一章 ", "第二章 ", "第三章 ")])
def test_numbered_headings_are_sections_of_one_article(numbers):
    text = "\n".join(line for n, t in zip(numbers, (A, B, C)) for line in [n + t, *BODY[t]])
    headings = tuple(h(n + t) for n, t in zip(numbers, (A, B, C)))
    assert article_sections([l for l in text.split("\n")], headings)[1] == []
    assert len(split_articles(text, "report.docx", headings=headings)) == 1


def test_a_section_without_enough_text_keeps_the_file_whole():
    short = "海湾观察站下周开放参观。"
    text = "\n".join([issue(A, B), "简讯", short])
    assert len(split_articles(text, "issue.docx", headings=(h(A), h(B), h("简讯")))) == 1
    assert len(split_articles(issue(A, B), "issue.docx", headings=(h(A), h(B)))) == 2


def test_one_heading_of_a_level_does_not_split():
    assert article_sections(issue(A, B).split("\n"), (h(A), h(B, 2)))[1] == []


def test_a_running_header_repeated_on_every_page_is_no_article_heading():
    header = "海湾通讯·2024年第3期"  # in a larger font at the top of each page, mid-article
    text = "\n".join([A, BODY[A][0], header, *BODY[A][1:], B, BODY[B][0], header, *BODY[B][1:]])
    docs = split_articles(text, "issue.pdf", headings=(h(A, 2), h(header, 1), h(B, 2), h(header, 1)))
    assert [d.title for d in docs] == [A, B]
    assert all(line not in docs[0].text for line in BODY[B])


def test_section_labels_right_above_the_headings_go_with_their_article_and_are_left_out():
    text = "\n".join(["要闻", A, *BODY[A], "科教", B, *BODY[B]])
    docs = split_articles(text, "issue.docx", headings=(h("要闻"), h(A, 2), h("科教"), h(B, 2)))
    assert [d.text for d in docs] == ["\n".join([t, *BODY[t]]) for t in (A, B)]


def test_a_heading_that_cleaning_joined_to_the_body_is_cut_off_again():
    text = "\n".join([A + BODY[A][0], *BODY[A][1:], B, *BODY[B]])
    docs = split_articles(text, "issue.pdf", headings=(h(A), h(B)))
    assert [d.text for d in docs] == ["\n".join([t, *BODY[t]]) for t in (A, B)]


def test_find_lines_over_wrapped_lines_and_not_on_the_last_line():
    lines = ["要闻", "青澜湾海藻养殖", "合作社带动渔村增收", "正文。"]
    assert find_lines(lines, "青澜湾海藻养殖 合作社带动渔村增收") == (lines, (1, 2))
    assert find_lines(lines, "正文。") == (lines, None)  # nothing under it
    assert find_lines(lines, "要闻", start=1) == (lines, None)
    assert find_lines(["青澜湾海藻正文。"], "青澜湾海藻", cut=False) == (["青澜湾海藻正文。"], None)


def test_heading_validates_and_serialises_itself():
    heading = Heading("海湾通讯", 0)
    assert Heading.from_dict(heading.to_dict()) == heading
    extracted = Extracted("海湾通讯\n正文。", "海湾通讯", (heading, Heading(A, 2)))
    assert Extracted.from_dict(extracted.to_dict()) == extracted
    assert Extracted.from_dict({"text": "正文。"}).headings == ()
    with pytest.raises(ValueError, match="empty"):
        Heading("  ", 1)
    with pytest.raises(ValueError, match="level"):
        Heading("标题", -1)
