"""rag.loading.cleaning: PDF-extracted text → paragraphs (hard wraps, page numbers, TOC, spaces)."""

from __future__ import annotations

import re

from rag.loading.cleaning import clean_text

CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]")

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


def test_clean_text_keeps_a_repeated_section_label_over_headlines_the_contents_list():
    """「观察」 over three articles is a section label, not a running header (kb5's 111 lost three articles so)."""
    heads = ["外卖平台清零行动：网络餐饮监管迈向穿透式核验", "预付式消费之困如何破解", "以信用为钥匙：信用风险分类监管观察"]
    contents = "".join(f"观察\t{3 + i}\n\n{h}\t{3 + i}\n\n" for i, h in enumerate(heads))
    body = "".join(f" 观察\n\n{h}\n\n第{i}篇的正文，这里是一个完整的句子。\n\n{3 + i}\n\n" for i, h in enumerate(heads))
    lines = clean_text("市场监管通讯\n\n" + contents + body).split("\n")
    assert lines.count("观察") == 3
    for h in heads:
        assert lines[lines.index(h) - 1] == "观察"


def test_clean_text_drops_a_repeated_line_over_headlines_the_contents_do_not_list():
    raw = "要闻\t1\n\n另一篇标题\t2\n\n" + "".join(
        f"江苏创业投资\n\n第{i}段标题行\n\n第{i}段内容，这里是一个完整的句子。\n\n" for i in range(3))
    assert "江苏创业投资" not in clean_text(raw).split("\n")


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

