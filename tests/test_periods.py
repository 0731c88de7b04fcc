import pytest

from rag.answer.analysis import analyze
from rag.answer.evidence import candidate_sentences
from rag.answer.periods import Period, asks_day, coarse_date, day_missing, names_day, period_mismatch
from rag.schema import Passage

# Two articles: a figure for 2023年1—10月, and a count with no period of its own.
ARTICLES = {
    "消费": "2023年1—10月份，中国社会消费品零售总额达38.5万亿元，同比增长6.9%。",
    "百奥赛图": "百奥赛图是第一家规模化开发人源化小鼠的企业。三四年后，百奥赛图的小鼠已经成功输送给全球26个国家和地区。",
}


def passage(doc, title):
    return Passage(text=doc, source=f"{title}.txt", title=title, score=1.0, start=0, end=len(doc), chunk_id=title)


@pytest.fixture
def passages():
    return [passage(text, title) for title, text in ARTICLES.items()]


def test_a_period_names_years_relative_years_and_parts_of_a_year():
    p = Period.of("2023年1—10月份，中国社会消费品零售总额达38.5万亿元")
    assert p.years == {"2023年"} and p.parts == {"1-10月"} and p.label == "2023年1—10月"
    assert Period.of("今年企业销售额有望突破500万元，计划明年申报").label == "今年、明年"
    assert not Period.of("公司营收达5亿元") and Period.of("去年")


def test_another_period_of_the_same_kind_conflicts():
    whole_year = Period.of("2023年全年的社会消费品零售总额是多少？")
    assert whole_year.conflicts(Period.of("2023年1—10月份，总额达38.5万亿元"))
    assert not whole_year.conflicts(Period.of("2023年全年，总额达47万亿元"))
    assert Period.of("苏创投2023年投了多少钱？").conflicts(Period.of("2024年上半年完成了50个项目"))
    assert Period.of("去年的销售额是多少？").conflicts(Period.of("今年销售额有望突破500万元"))


def test_two_names_of_one_period_do_not_conflict():
    """年末 is 年底 and 上年 is 去年: 「到2025年底…有多少」 is answered by 「2025年末…131.2万人」 (held-out kb5's k1201)."""
    assert not Period.of("临江到2025年底，65岁以上的老人有多少？").conflicts(Period.of("2025年末，65岁及以上人口131.2万人"))
    assert not Period.of("去年的营收是多少？").conflicts(Period.of("上年营收12亿元"))
    assert Period.of("2025年底有多少？").conflicts(Period.of("2025年上半年有120万人"))


def test_periods_of_different_kinds_do_not_conflict():
    # the article's own date is unknown: 2023年 may well be 去年
    assert not Period.of("去年的销售额是多少？").conflicts(Period.of("2023年销售额为500万元"))
    assert not Period.of("去年的销售额是多少？").comparable(Period.of("2023年销售额为500万元"))
    assert not Period.of("2023年的营收是多少？").conflicts(Period.of("上半年营收达5亿元"))


def test_a_comparison_year_is_not_the_figures_period():
    assert not Period.of("2023年的营收是多少？").conflicts(Period.of("营收达5亿元，较2022年增长10%"))
    assert not Period.of("营收比2022年同期增长10%")


def test_a_sentence_takes_the_period_kinds_it_lacks_from_its_context():
    stated = Period.of("营收达5亿元，同比增长10%。").within(Period.of("2024年，公司业务快速发展。"))
    assert stated.years == {"2024年"} and Period.of("2023年营收多少？").conflicts(stated)
    own = Period.of("2023年1—10月份，总额达38.5万亿元").within(Period.of("扩内需贯穿2023年经济复苏的全年。"))
    assert own.parts == {"1-10月"}  # its own part of the year, not the sentence before's
def test_a_day_asked_for_and_a_date_no_finer_than_a_month():
    assert asks_day("“悟道1.0”到底是3月哪一天发布的？") and asks_day("活动具体是几号办的？")
    assert not asks_day("悟道1.0是哪一年发布的？")
    assert names_day("已于2022年10月11日，印发了《工作意见》") and names_day("6号开幕")
    assert not names_day("今日，日前，日本")  # no Arabic day
    assert coarse_date("3月下旬，我国首个超大规模人工智能模型发布") == "3月下旬"
    assert coarse_date("2023年上半年，西城区印发了营商环境6.0政策") == "2023年上半年"
    assert coarse_date("近日，昆山高新区举办了直播带岗活动") == ""


def ranked_sentences(passages, *texts_with_value):
    """The passages' candidate sentences in the given order, each marked as carrying a new value or not."""
    by_text = {c.text: c for c in candidate_sentences(passages)}
    out = []
    for text, valued in texts_with_value:
        c = by_text[text]
        c.features = {"slot_new": float(valued)}
        out.append(c)
    return out


PERIOD_SENTENCE = "2023年1—10月份，中国社会消费品零售总额达38.5万亿元，同比增长6.9%。"


def test_a_figure_for_another_period_does_not_answer(passages):
    a = analyze("2023年全年的社会消费品零售总额是多少？")
    ranked = ranked_sentences(passages, (PERIOD_SENTENCE, True))
    assert period_mismatch(a, passages, ranked) == ("2023年全年", "2023年1—10月")
    # the asked period itself, or a question that names none, has no mismatch
    assert period_mismatch(analyze("2023年1—10月份社会消费品零售总额是多少？"), passages, ranked) is None
    assert period_mismatch(analyze("社会消费品零售总额是多少？"), passages, ranked) is None
    # only factoid questions: a why question is answered by reasons, whatever their period
    assert period_mismatch(analyze("为什么2023年全年消费回暖？"), passages, ranked) is None


def test_a_better_sentence_of_the_asked_period_clears_the_question():
    doc = ("HPS在二季度通过发起夹层信贷投资基金，募资逾190亿美元；年初高盛也募集一只规模达到117亿美元的夹层债基金。"
           "今年以来，阿波罗、贝莱德等机构纷纷发起新的私募信贷基金。")
    ps = [passage(doc, "私募信贷")]
    a = analyze("二季度募到190多亿美元的是哪家机构？")
    hps = "HPS在二季度通过发起夹层信贷投资基金，募资逾190亿美元；"
    goldman = "年初高盛也募集一只规模达到117亿美元的夹层债基金。"
    assert period_mismatch(a, ps, ranked_sentences(ps, (goldman, True))) == ("二季度", "年初")
    # the best sentence names 二季度 though the value pattern missed its Latin name: it may answer
    assert period_mismatch(a, ps, ranked_sentences(ps, (hps, False), (goldman, True))) is None


def test_a_valued_sentence_without_a_period_of_its_own_decides_nothing(passages):
    a = analyze("2022年百奥赛图的小鼠卖到了多少个国家？")
    ranked = ranked_sentences(passages, ("三四年后，百奥赛图的小鼠已经成功输送给全球26个国家和地区。", True))
    assert period_mismatch(a, passages, ranked) is None


def test_a_day_asked_for_is_missing_when_the_best_sentences_give_a_month_at_most():
    doc = ("3月下旬，我国首个超大规模人工智能模型“悟道1.0”发布。唐杰透露，今年6月将会有一个规模更大的模型发布。"
           "武汉市已于2022年10月11日印发了《工作意见》。")
    ps = [passage(doc, "悟道")]
    month = "3月下旬，我国首个超大规模人工智能模型“悟道1.0”发布。"
    june = "唐杰透露，今年6月将会有一个规模更大的模型发布。"
    day = "武汉市已于2022年10月11日印发了《工作意见》。"
    a = analyze("“悟道1.0”到底是3月哪一天发布的？")
    assert day_missing(a, ranked_sentences(ps, (month, True), (june, True))) == "3月下旬"
    # the date that carries the question's own month, though another sentence ranks first
    assert day_missing(a, ranked_sentences(ps, (june, True), (month, False))) == "3月下旬"
    # a day among the best sentences may be the answer: the judge decides
    assert day_missing(a, ranked_sentences(ps, (month, True), (day, True))) is None
    # a question that asks for the year, or in English, is not this rule's
    assert day_missing(analyze("悟道1.0是哪一年发布的？"), ranked_sentences(ps, (month, True))) is None
    assert day_missing(analyze("On what date was WuDao 1.0 released?"), ranked_sentences(ps, (month, True))) is None
