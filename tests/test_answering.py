import re

import pytest

from rag.answering import (
    MAX_QUESTION_CHARS, REFUSAL_TEXT, ExtractiveAnswerer, answer_type, assess_evidence,
    extract_terms, named_entities, validate_question,
)
from rag.errors import QuestionError
from rag.schema import Passage

DOC = (
    "中央经济工作会议：形成消费和投资相互促进的良性循环\n"
    "中央经济工作会议12月11日至12日在北京举行。会议提出，必须坚持深化供给侧结构性改革和着力扩大有效需求协同发力。"
    "2023年1—10月份，中国社会消费品零售总额达38.5万亿元，同比增长6.9%。"
    "东方金诚首席宏观分析师王青表示，2024年各部门对促消费将更加重视，因为居民消费扩张会直接刺激生产。"
)
DOC2 = (
    "百奥赛图创业征途步履不停\n"
    "百奥赛图是全球范围内第一家规模化开发靶点人源化小鼠的企业。三四年后，百奥赛图的小鼠已经成功输送给全球26个国家和地区。"
)


def passage(doc, start, end, title, source="000.txt"):
    return Passage(text=doc[start:end], source=source, title=title, score=1.0, start=start, end=end, chunk_id=f"c{start}")


@pytest.fixture
def passages():
    half = DOC.index("2023年")
    return [
        passage(DOC, 0, half, "中央经济工作会议：形成消费和投资相互促进的良性循环"),
        passage(DOC, half, len(DOC), "中央经济工作会议：形成消费和投资相互促进的良性循环"),
        passage(DOC2, 0, len(DOC2), "百奥赛图创业征途步履不停", "003.txt"),
    ]


def marks(text):
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_answer_quotes_the_supporting_sentence_and_cites_it(passages):
    a = ExtractiveAnswerer().answer("中央经济工作会议在哪里举行？", passages)
    assert not a.refused and a.mode == "extractive"
    assert "在北京举行" in a.text
    for n in marks(a.text):
        assert 1 <= n <= len(a.citations)
    # every sentence before a mark is verbatim in the passage it cites
    for sentence, n in re.findall(r"([^\[\]]+?)\[(\d+)\]", a.text):
        assert sentence.strip() in a.citations[int(n) - 1].text
    assert len(a.text) < 200


def test_number_question_gets_the_sentence_with_the_number(passages):
    a = ExtractiveAnswerer().answer("2023年前十个月社会消费品零售总额是多少？", passages)
    assert "38.5万亿元" in a.text and not a.refused


def test_citations_hold_only_cited_passages_in_order_of_mention(passages):
    a = ExtractiveAnswerer().answer("百奥赛图的小鼠卖到了多少个国家？", passages)
    assert "26个国家" in a.text
    assert marks(a.text)[0] == 1 and a.citations[0].source == "003.txt"
    assert sorted(set(marks(a.text))) == list(range(1, len(a.citations) + 1))


@pytest.mark.parametrize("question", [
    "百奥赛图2023年的营业收入是多少？",  # covered company, amount never given
    "中央经济工作会议在上海的分会场有多少人参加？",  # a place the article never names
    "今天的天气怎么样？",  # off topic
    "特斯拉在德国建厂的原因是什么？",  # entities absent
])
def test_refuses_when_the_passages_lack_the_detail(passages, question):
    a = ExtractiveAnswerer().answer(question, passages)
    assert a.refused and a.citations == [] and a.text.startswith(REFUSAL_TEXT)


def test_refusal_check_can_be_turned_off(passages):
    a = ExtractiveAnswerer(refuse_check=False).answer("今天的天气怎么样？", passages)
    assert not a.refused


def test_no_passages_means_refusal():
    a = ExtractiveAnswerer().answer("任何问题？", [])
    assert a.refused and a.citations == []


def test_assess_evidence_names_missing_entities(passages):
    ev = assess_evidence("特斯拉在柏林的工厂有多大？", passages)
    assert not ev.answerable and "特斯拉" in ev.reason


@pytest.mark.parametrize("question, kind", [
    ("会议在哪一年召开？", "date"), ("零售总额是多少？", "number"), ("会议在哪里举行？", "place"),
    ("谁提出了这个观点？", "person"), ("为什么要扩大内需？", "why"), ("有哪些新的消费增长点？", "list"),
    ("什么是耐心资本？", "definition"), ("介绍一下百奥赛图", "other"),
])
def test_answer_type(question, kind):
    assert answer_type(question) == kind


def test_terms_and_entities():
    assert "百奥赛图" in extract_terms("百奥赛图的小鼠卖到了哪些国家？")
    assert "哪些" not in extract_terms("百奥赛图的小鼠卖到了哪些国家？")
    assert named_entities("VC/PE机构在2024年会怎样？") == ["VC/PE", "2024年"]


def test_validate_question():
    assert validate_question("  问题？ ") == ("问题？", [])
    with pytest.raises(QuestionError):
        validate_question("   \n ")
    with pytest.raises(ValueError):  # QuestionError is a ValueError
        validate_question("")
    text, warnings = validate_question("长" * (MAX_QUESTION_CHARS + 500))
    assert len(text) == MAX_QUESTION_CHARS and "过长" in warnings[0]


def test_stream_yields_text_then_answer(passages):
    pieces = list(ExtractiveAnswerer().stream("中央经济工作会议在哪里举行？", passages))
    assert isinstance(pieces[0], str) and pieces[-1].text == pieces[0]


@pytest.mark.parametrize("question, unit", [
    ("丁香园创始人今年多大岁数？", "岁"), ("募资目标是多少亿美元？", "亿"), ("小鼠出口到多少个国家？", "个"),
    ("零售总额是多少？", ""), ("有几家企业入驻？", "家"), ("城市云脑汇集了多少数据？", ""),
])
def test_expected_unit(question, unit):
    from rag.answering import expected_unit

    assert expected_unit(question) == unit


def test_a_year_is_not_a_quantity():
    from rag.answering import carries_number

    assert not carries_number("2017年，中科院创投正式成立。")
    assert carries_number("母基金规模为20亿元。", "亿")
    assert not carries_number("母基金规模为20亿元。", "岁")
    assert carries_number("输送给全球26个国家和地区。", "个")
