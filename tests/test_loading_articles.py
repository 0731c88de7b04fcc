"""rag.loading.articles: cleaned text → articles, titles and publications in either layout."""

from __future__ import annotations

import pytest

from rag.loading.articles import file_title, is_meta, split_articles

TITLE = "青澜湾海藻养殖合作社带动渔村增收"
BODY = [
    "青澜湾海藻养殖合作社成立于2019年3月，由返乡青年林晓禾牵头，带动周边三个渔村的一百二十户渔民参与养殖。",
    "合作社采用“合作社+农户”的模式，统一提供苗种和技术指导，去年海藻产量达到八百吨，社员人均增收一万二千元。",
]


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



# ------------------------------------------------------------------ header-first layouts

META_CASES = [
    ("来源：青澜日报", "青澜日报"),
    ("【来源：青澜日报】", "青澜日报"),
    ("作者：林晓禾 2024年3月5日", "作者：林晓禾 2024年3月5日"),
    ("发布时间：2024-03-05 10:20 来源：海湾观察", "海湾观察"),
    ("来源：海湾观察 作者：林晓禾", "海湾观察"),
    ("来源：青澜日报 2024年3月5日 10:00", "青澜日报"),
    ("文/林晓禾", "文/林晓禾"),
]


@pytest.mark.parametrize("meta, publication", META_CASES)
def test_title_then_meta_line_then_body(meta, publication):
    [doc] = split_articles("\n".join([TITLE, meta, *BODY]), "upload.txt")
    assert doc.title == TITLE
    assert doc.publication == publication
    assert doc.text.split("\n")[0] == TITLE
    assert all(line in doc.text for line in BODY)
    assert "来源" not in doc.text  # a 来源 line is the publication, not text


@pytest.mark.parametrize("meta, publication", META_CASES)
def test_title_then_body_then_meta_line_at_the_end(meta, publication):
    [doc] = split_articles("\n".join([TITLE, *BODY, meta]), "upload.txt")
    assert (doc.title, doc.publication) == (TITLE, publication)
    assert all(line in doc.text for line in BODY)


def test_author_and_date_lines_stay_in_the_text_and_form_the_publication():
    text = "\n".join([TITLE, "作者：林晓禾", "2024-03-05", *BODY])
    [doc] = split_articles(text, "upload.txt")
    assert doc.title == TITLE
    assert doc.publication == "作者：林晓禾 2024-03-05"
    assert doc.text.split("\n")[:3] == [TITLE, "作者：林晓禾", "2024-03-05"]


def test_header_source_wins_over_author_and_a_trailing_source_fills_in():
    [doc] = split_articles("\n".join([TITLE, "作者：林晓禾", *BODY, "来源：青澜日报"]), "u.txt")
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")
    assert "作者：林晓禾" in doc.text and "来源" not in doc.text


def test_several_header_first_articles_in_one_file():
    text = "\n".join([
        "2024年3月 第5期",
        TITLE, "来源：青澜日报", *BODY,
        "海湾观察站启用新型监测浮标", "发布时间：2024-03-06", "作者：周明",
        "新型监测浮标可以实时记录水温、盐度和溶解氧，数据每十分钟上传一次。",
    ])
    docs = split_articles(text, "issue.txt")
    assert [(d.title, d.publication) for d in docs] == [
        (TITLE, "青澜日报"),
        ("海湾观察站启用新型监测浮标", "发布时间：2024-03-06 作者：周明"),
    ]
    assert "新型监测浮标可以实时记录水温" in docs[1].text
    assert "新型监测浮标可以实时记录水温" not in docs[0].text


def test_a_dateline_and_label_before_the_title_do_not_become_the_title():
    [doc] = split_articles("\n".join(["要闻", "2024年3月5日", TITLE, "来源：青澜日报", *BODY]), "u.txt")
    assert (doc.title, doc.publication) == (TITLE, "青澜日报")


def test_header_blocks_under_a_masthead_and_contents_with_labelled_headlines():
    """An issue opening with its masthead and 「本期目录」, each article a 「【label】headline」 over an 作者/来源 line and a
    date: header-first articles titled without the label, the masthead and contents in none of them."""
    second = "海湾观察站启用新型监测浮标"
    text = "\n".join([
        "青澜海洋观察", "2026 年第 7 期", "主办：青澜市海洋协会", "本期目录", f"【聚焦】{TITLE}", f"【观察】{second}",
        f"【聚焦】{TITLE}", "作者：本刊记者 沈一帆 来源：本刊", "2026-04-08", *BODY,
        f"【观察】{second}", "作者：周明 来源：青澜日报", "2026-04-09",
        "新型监测浮标可以实时记录水温、盐度和溶解氧，数据每十分钟上传一次。",
    ])
    docs = split_articles(text, "issue.txt")
    assert [(d.title, d.publication) for d in docs] == [(TITLE, "本刊"), (second, "青澜日报")]
    assert not any("本期目录" in d.text or "主办" in d.text for d in docs)


def test_a_label_line_over_a_header_first_headline_is_not_in_the_title():
    docs = split_articles("\n".join(["本期目录", "【访谈】", TITLE, "采访／本刊记者 孙悦　整理／实习生 杨帆", *BODY]), "u.txt")
    assert [d.title for d in docs] == [TITLE]


@pytest.mark.parametrize("line", ["来源：新华社", "作者：张三 2024年1月2日", "发布时间：2024-01-02", "文/张三",
                                  "2024-01-02 来源：新华社", "责任编辑：李四", "采访／本刊记者 孙悦　整理／实习生 杨帆"])
def test_meta_lines(line):
    assert is_meta(line)


@pytest.mark.parametrize("line", ["时间过得很快，合作社已经成立五年。", "数据来源：国家统计局，2023年1—10月。",
                                  "作者认为，海藻养殖前景广阔：需求持续增长，而且价格稳定，值得推广。", TITLE])
def test_sentences_and_headlines_are_not_meta_lines(line):
    assert not is_meta(line)


# ------------------------------------------------------------------ titles


def test_a_title_from_the_files_structure_wins_over_the_heuristics():
    long_title = "青澜湾海藻养殖合作社带动三个渔村一百二十户渔民增收致富的经验与启示及其对沿海乡村振兴的意义"
    assert len(long_title) > 40  # too long for the text heuristics alone
    docs = split_articles("\n".join([long_title, *BODY]), "u.docx", title=long_title)
    assert [d.title for d in docs] == [long_title]
    assert split_articles("\n".join([long_title, *BODY]), "u.docx")[0].title != long_title


def test_a_structural_title_joined_to_the_body_by_cleaning_is_cut_off_again():
    [doc] = split_articles(TITLE + BODY[0] + "\n" + BODY[1], "u.pdf", title=TITLE)
    assert doc.title == TITLE
    assert doc.text.split("\n")[:2] == [TITLE, BODY[0]]


def test_a_structural_title_over_two_lines():
    [doc] = split_articles("\n".join(["青澜湾海藻养殖合作社", "带动渔村增收", *BODY]), "u.pdf", title="青澜湾海藻养殖合作社 带动渔村增收")
    assert doc.title == "青澜湾海藻养殖合作社 带动渔村增收"


def test_text_without_a_headline_is_named_after_its_file_not_a_cut_sentence():
    [doc] = split_articles("\n".join(BODY), "2024/合作社简介.txt")
    assert doc.title == "合作社简介"
    assert doc.text == "\n".join(["合作社简介", *BODY])


def test_file_title_numbers_later_articles():
    assert file_title("a/b/报告.docx") == "报告"
    assert file_title("报告.docx", 2) == "报告（3）"


def test_a_long_structural_title_before_a_source_line_opens_a_header_first_file():
    long_title = "青澜湾海藻养殖合作社带动三个渔村一百二十户渔民增收致富的经验与启示及其对沿海乡村振兴的意义"
    text = "\n".join([long_title, "来源：青澜日报", *BODY, "海湾观察站启用新型监测浮标", "来源：海湾观察",
                      "新型监测浮标可以实时记录水温、盐度和溶解氧。"])
    docs = split_articles(text, "u.docx", title=long_title)
    assert [(d.title, d.publication) for d in docs] == [
        (long_title, "青澜日报"), ("海湾观察站启用新型监测浮标", "海湾观察")]


@pytest.mark.parametrize("meta, publication", [
    (["原创 林晓禾 青澜日报 2024-03-05 09:30 浙江"], "原创 林晓禾 青澜日报 2024-03-05 09:30 浙江"),  # WeChat style
    (["作者 | 林晓禾", "编辑 | 周明"], "作者 | 林晓禾 编辑 | 周明"),
    (["2024年03月05日 09:30  来源：新华网"], "新华网"),
])
def test_more_header_styles(meta, publication):
    [doc] = split_articles("\n".join([TITLE, *meta, *BODY]), "u.txt")
    assert (doc.title, doc.publication) == (TITLE, publication)


def test_a_dateline_under_the_title_is_not_part_of_it():
    [doc] = split_articles("\n".join([TITLE, "（2024年3月5日）", *BODY]), "u.txt")
    assert doc.title == TITLE and "（2024年3月5日）" in doc.text


def test_title_and_subtitle_above_the_meta_line():
    [doc] = split_articles("\n".join([TITLE, "海藻产业成为乡村振兴新引擎", "来源：新华网", *BODY]), "u.txt")
    assert (doc.title, doc.publication) == (f"{TITLE} 海藻产业成为乡村振兴新引擎", "新华网")


def test_header_first_file_whose_later_articles_end_with_a_source_line():
    later = "新型监测浮标可以实时记录水温、盐度和溶解氧，数据每十分钟上传一次。"
    text = "\n".join([TITLE, "作者：林晓禾", *BODY, "来源：青澜日报",
                      "海湾观察站启用新型监测浮标", later, "来源：海湾观察"])
    docs = split_articles(text, "issue.txt")
    assert [(d.title, d.publication) for d in docs] == [
        (TITLE, "青澜日报"), ("海湾观察站启用新型监测浮标", "海湾观察")]
    assert later not in docs[0].text and "作者：林晓禾" in docs[0].text


LABELLED_ISSUE = [
    "能源与交通观察",
    "2026年第11期",
    "目录",
    "聚焦 低空物流驶入“航线时代”",
    "产业 氢能重卡跑上干线",
    "聚焦",
    "低空物流驶入“航线时代”",
    "上午9点40分，一架无人机从高新区的楼顶起降场腾空而起，14分钟后降落在城东的医院分院。",
    "全市无人机物流飞行达138.6万架次，同比增长87%，已建成各类低空起降点418个，其中物流起降场136个。",
    "三大场景渐次成熟",  # a subheading inside the article: no label above it
    "医疗标本、外卖和快递是最早成熟的三个场景，其中医疗标本配送的准点率达到了99.2%，远高于地面车辆。",
    "产业",
    "氢能重卡跑上干线",
    "今年前三季度，全省氢燃料电池重卡销量达到1860辆，同比增长62%，主要用于港口集疏运和干线物流。",
    "加氢站建设滞后仍是制约行业发展的主要因素，目前全省建成加氢站仅47座，平均每座服务近40辆车。",
    "业内人士认为，随着绿氢项目陆续投产，氢气价格有望在两年内降至每公斤25元以下，届时重卡全生命周期成本将与柴油车持平。",
    "来源：江屿市交通能源研究会综合整理",
]


def test_an_issue_with_only_section_labels_is_cut_at_them():
    """Neither 来源 lines after each article nor header blocks: the labels over the headlines open the articles,
    and the masthead and contents above the first one are no article (held-out kb2's 103, kb3's 106)."""
    docs = split_articles("\n".join(LABELLED_ISSUE), "issue.txt")
    assert [d.title for d in docs] == ["低空物流驶入“航线时代”", "氢能重卡跑上干线"]
    assert "三大场景渐次成熟" in docs[0].text and "目录" not in docs[0].text
    assert [d.publication for d in docs] == ["", "江屿市交通能源研究会综合整理"]


def test_a_staff_byline_under_a_labelled_headline_is_not_part_of_the_title():
    """「本刊记者 方晓禾」 under the headline stays in the text, out of the title (kb9's 122 had it in six titles)."""
    lines = list(LABELLED_ISSUE)
    lines.insert(lines.index("氢能重卡跑上干线", 5) + 1, "本刊通讯员 卢思远")
    lines.insert(lines.index("低空物流驶入“航线时代”", 5) + 1, "本刊记者 方晓禾")
    docs = split_articles("\n".join(lines), "issue.txt")
    assert [d.title for d in docs] == ["低空物流驶入“航线时代”", "氢能重卡跑上干线"]
    assert "本刊记者 方晓禾" in docs[0].text and "本刊通讯员 卢思远" in docs[1].text


def test_a_label_over_a_short_part_leaves_the_file_whole():
    """A label over a part too short for an article (a box, a note) is no article boundary."""
    lines = LABELLED_ISSUE[:-6] + ["产业", "氢能重卡跑上干线", "销量1860辆。", "来源：本刊"]
    docs = split_articles("\n".join(lines), "issue.txt")
    assert len(docs) == 1 and "销量1860辆。" in docs[0].text
    assert docs[0].title == "低空物流驶入“航线时代”", "the masthead above the first label titles nothing"


def test_the_masthead_above_the_first_labelled_article_does_not_title_it():
    """来源 lines split the issue, but the issue's name, number and date stand above the first article's label
    (held-out kb2's 101 was titled 「乡村振兴观察」)."""
    lines = ["乡村振兴观察", "2024 年第 3 期（总第 41 期）", "中原乡村发展促进会 主办", "聚焦", TITLE, *BODY, "来源：本刊综合",
             "种业", "种业振兴行动三年", *BODY, "来源：本刊记者"]
    docs = split_articles("\n".join(lines), "issue.txt")
    assert [d.title for d in docs] == [TITLE, "种业振兴行动三年"]
    assert [d.publication for d in docs] == ["本刊综合", "本刊记者"]


def test_labels_over_nothing_but_short_questions_leave_the_file_whole():
    """Every part under a label is headline-length (a quiz, an FAQ of one-line answers): no article comes of it,
    and loading does not fail (it raised StopIteration before)."""
    lines = ["聚焦", "什么是低空经济？", "低空经济是什么？", "观察", "为什么要发展它？", "因为它能带动消费？",
             "数据", "有多少架次？", "138万架次？"]
    docs = split_articles("\n".join(lines), "faq.txt")
    assert len(docs) == 1 and "138万架次？" in docs[0].text
