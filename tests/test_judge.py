import json

import numpy as np
import pytest

from rag.answer.analysis import analyze
from rag.answer.base import Verdict
from rag.answer.evidence import CROSSLINGUAL_FEATURES, QUESTION_FEATURES, Evidence, LinearModel, SentenceEvidence
from rag.answer.judge import (
    MODEL_PATH, REFUSAL_RULES, Classifier, Decision, EvidenceJudge, Judge, JudgeModel, default_model, refusal_reason,
    rules_refusing,
)
from rag.errors import ConfigError
from rag.schema import Passage

DOC = "百奥赛图是全球范围内第一家规模化开发靶点人源化小鼠的企业。百奥赛图的小鼠已经输送给全球26个国家和地区。"


def passage(doc=DOC):
    return Passage(text=doc, source="003.txt", title="百奥赛图创业征途步履不停", score=1.0, start=0, end=len(doc),
                   chunk_id="c1")


def evidence(question, features, *, missing=(), found=("百奥赛图",), subject=True, passages=None):
    passages = [passage()] if passages is None else passages
    sentences = [SentenceEvidence(0, 0, 0, 10, DOC[:10], {}, 1.0)] if passages else []
    return Evidence(analyze(question), passages, sentences, dict(features), list(missing), list(found), subject)


def one_feature_model(threshold=0.5):
    """P(answerable) = sigmoid(4 * (slot_support - 0.5)) for the full model, similarity for the cross-lingual one."""
    full = Classifier(LinearModel(("slot_support",), (4.0,), 0.0, (0.5,), (1.0,)), threshold)
    crosslingual = Classifier(LinearModel(("best_similarity",), (10.0,), 0.0, (0.8,), (1.0,)), threshold)
    return JudgeModel(LinearModel(("similarity",), (1.0,), 0.0, (0.0,), (1.0,)), full, crosslingual, {}, {})


def test_decision_validates_and_round_trips():
    d = Decision(False, "文章中没有提到“特斯拉”", 0.1)
    assert Decision.from_dict(d.to_dict()) == d
    with pytest.raises(ValueError):
        Decision(False, "", 0.1)  # a refusal needs a reason
    with pytest.raises(ValueError):
        Decision(True, "", 1.5)


def test_judge_refuses_below_the_threshold_with_a_plain_reason():
    judge = Judge(one_feature_model())
    q = "百奥赛图2023年的营业收入是多少？"
    refused = judge.decide(q, evidence(q, {"slot_support": 0.0}))
    assert not refused.answerable and refused.probability < 0.5
    assert refused.reason == "文章提到了“百奥赛图”，但没有给出收入数字"
    answered = judge.decide(q, evidence(q, {"slot_support": 1.0}))
    assert answered.answerable and answered.reason == "" and answered.probability > 0.5


def test_english_questions_use_the_crosslingual_model():
    judge = Judge(one_feature_model())
    q = "How many countries did Biocytogen ship mice to?"
    assert judge.decide(q, evidence(q, {"best_similarity": 0.9, "slot_support": 0.0})).answerable
    assert not judge.decide(q, evidence(q, {"best_similarity": 0.7, "slot_support": 1.0})).answerable


def test_a_missing_proper_name_leads_the_reason():
    q = "2024年厦门的消费券发了多少？"
    ev = evidence(q, {}, missing=["2024年", "厦门"], subject=False)
    ev.missing_names = ["厦门"]
    assert refusal_reason(ev) == "文章中没有提到“厦门”"


def test_reasons_never_show_scores_or_token_lists():
    q = "特斯拉在德国建厂的原因是什么？"
    assert refusal_reason(evidence(q, {}, missing=["特斯拉", "德国"])) == "文章中没有提到“特斯拉”、“德国”"
    assert refusal_reason(evidence(q, {}, found=(), subject=False)) == "文章中没有找到与这个问题相关的内容"
    assert refusal_reason(evidence(q, {}, passages=[])) == "没有检索到相关的文章内容"
    for reason in (refusal_reason(evidence(q, {}, missing=["特斯拉"])), refusal_reason(evidence(q, {}))):
        assert not any(ch.isdigit() for ch in reason) and "[" not in reason


def test_an_english_questions_own_words_are_not_reported_missing_from_chinese_articles():
    q = 'How many companies has the "little giant" programme named in Laoshan?'
    assert refusal_reason(evidence(q, {}, missing=["little giant"], found=())) == "文章中没有给出具体数字"
    assert refusal_reason(evidence(q, {}, missing=["little giant", "崂山"], found=())) == "文章中没有提到“崂山”"
    assert refusal_reason(evidence(q, {}, found=(), subject=False)) == "文章中没有找到与这个问题相关的内容"


def test_no_passages_is_never_answerable():
    d = Judge(one_feature_model()).decide("问题", evidence("问题", {}, passages=[]))
    assert not d.answerable and d.probability == 0.0


def test_disabled_judge_answers_everything():
    q = "百奥赛图2023年的营业收入是多少？"
    assert Judge(one_feature_model(), enabled=False).decide(q, evidence(q, {"slot_support": 0.0})).answerable


def test_model_file_round_trips(tmp_path):
    m = one_feature_model(0.42)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(m.to_dict()), "utf-8")
    assert JudgeModel.load(path) == m
    assert JudgeModel.load(tmp_path / "missing.json").full is None  # untrained: answers everything


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": 99})])
def test_a_broken_model_file_says_how_to_fix_it(tmp_path, content):
    path = tmp_path / "m.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ConfigError, match="train_judge.py"):
        JudgeModel.load(path)


def test_the_packaged_model_is_trained_and_versioned():
    data = json.loads(MODEL_PATH.read_text("utf-8"))
    model = default_model()
    assert model.full is not None and model.crosslingual is not None
    assert list(model.full.model.features) == list(QUESTION_FEATURES)
    assert list(model.crosslingual.model.features) == list(CROSSLINGUAL_FEATURES)
    assert data["meta"]["split"] == "tune" and len(data["meta"]["questions_sha256"]) == 16
    assert 0.0 < model.full.threshold < 1.0
    assert np.isfinite(model.ranker.coef).all()


@pytest.mark.slow
def test_evidence_judge_step_returns_a_verdict(e5_embedder):
    step = EvidenceJudge(None, e5_embedder)
    v = step("百奥赛图的小鼠输送给了多少个国家和地区？", [passage()])
    assert isinstance(v, Verdict) and v.answerable and v.subject_found
    assert v.evidence.best is not None and "26个国家" in v.evidence.best.text
    off = step("红烧肉怎么做才好吃？", [passage()])
    assert not off.answerable and not off.subject_found and off.reason


@pytest.mark.slow
def test_a_missing_name_beside_the_articles_own_name_leaves_the_question_to_the_model(e5_embedder):
    """kb9's 「澜康生物那款ADC…授给了哪家公司」: the article writes 抗体偶联药物, never ADC. The extractive judge still
    refuses on the missing name; the LLM-mode gate does not, since the passages are on the question's subject and
    name its other name (百奥赛图 here), one no dictionary holds."""
    step = EvidenceJudge(None, e5_embedder)
    v = step("百奥赛图那批CRO小鼠输送给了多少个国家和地区？", [passage()])
    assert v.evidence.missing_names == ["CRO"] and not v.evidence.subject_found and not v.answerable
    assert v.evidence.subject_named and v.subject_found and "CRO" in v.reason
    # a name alone, or beside a name any text may hold, is still off the articles' subject
    for question in ("Nike的小鼠输送给了多少个国家和地区？", "厦门的小鼠输送给了多少个国家和地区？"):
        off = step(question, [passage()])
        assert not off.evidence.subject_named and not off.subject_found


def test_a_list_the_articles_do_not_give_in_full_is_for_the_classifier_to_weigh():
    """The list shortfall is a feature (``list_short``), not a rule: held out by batch it refused as many
    unanswerable questions without the rule, and four of its 24 refusals on tune were answerable questions."""
    from rag.answer.lists import ListShortfall

    judge = Judge(one_feature_model())
    q = "昆山高新区去开专场校招的那18所高校，具体是哪几所学校？"
    ev = evidence(q, {"slot_support": 1.0})
    ev.list_shortfall = ListShortfall("18所高校", 18, 6)
    assert "list" not in REFUSAL_RULES and rules_refusing(ev) == ()
    assert judge.decide(q, ev).answerable  # the classifier says answerable: nothing overrides it
    ev.features["slot_support"] = 0.0
    refused = judge.decide(q, ev)  # when it refuses, the reason names what is missing
    assert not refused.answerable and refused.reason == "文章提到了“18所高校”，但没有全部列出"
    ev.list_shortfall = ListShortfall("24位院士", 24, 0)
    assert judge.decide(q, ev).reason == "文章提到了“24位院士”，但没有一一列出"


def test_the_refusal_rules_are_named_in_one_place():
    q = "2023年全年的社会消费品零售总额是多少？"
    ev = evidence(q, {"slot_support": 1.0})
    assert rules_refusing(ev) == ()
    ev.period_mismatch = ("2023年全年", "2023年1—10月")
    ev.day_missing = "3月下旬"
    assert rules_refusing(ev) == ("period", "day") and set(REFUSAL_RULES) == {"period", "day"}


def test_a_day_the_articles_do_not_give_is_refused_whatever_the_classifier_says():
    judge = Judge(one_feature_model())
    q = "“悟道1.0”到底是3月哪一天发布的？"
    ev = evidence(q, {"slot_support": 1.0})
    assert judge.decide(q, ev).answerable
    ev.day_missing = "3月下旬"
    refused = judge.decide(q, ev)
    assert not refused.answerable and refused.reason == "文章只说到“3月下旬”，没有给出具体哪一天"
    ev.period_mismatch = ("3月", "今年6月")  # the period rule reads 3月 as the asked period: the day says more
    assert refusal_reason(ev) == "文章只说到“3月下旬”，没有给出具体哪一天"


def test_nothing_on_the_subject_is_refused_whatever_the_classifier_says():
    q = "红烧肉怎么做才好吃？"
    d = Judge(one_feature_model()).decide(q, evidence(q, {"slot_support": 1.0}, found=(), subject=False))
    assert not d.answerable and d.reason == "文章中没有找到与这个问题相关的内容"


def test_a_figure_for_another_period_is_refused_whatever_the_classifier_says():
    judge = Judge(one_feature_model())
    q = "2023年全年的社会消费品零售总额是多少？"
    ev = evidence(q, {"slot_support": 1.0})
    assert judge.decide(q, ev).answerable
    ev.period_mismatch = ("2023年全年", "2023年1—10月")
    refused = judge.decide(q, ev)
    assert not refused.answerable and refused.probability > 0.5
    assert refused.reason == "文章说的是“2023年1—10月”的情况，没有给出“2023年全年”的"
    # a proper name the passages never mention says more, and comes first
    ev.missing_names = ["厦门"]
    assert refusal_reason(ev) == "文章中没有提到“厦门”"


def test_an_english_question_naming_what_nothing_places_is_told_so():
    q = "What was Nike's revenue last year?"
    ev = evidence(q, {"best_similarity": 0.7})
    ev.unplaced = ["Nike"]
    refused = Judge(one_feature_model()).decide(q, ev)
    assert not refused.answerable and refused.reason == "文章中没有提到“Nike”"


@pytest.mark.slow
def test_a_question_asking_two_things_is_answered_when_the_passages_answer_one(e5_embedder):
    """Judged whole, the second half's words (黑土地, 面积) are nowhere near the first half's answer; judged
    part by part, the first half is answered (the held-out knowledge base's k103 and tune's q731 read so).
    The one-feature model keeps the test to the step's logic: the packaged model's probability of the whole
    moves with every retrain."""
    step = EvidenceJudge(None, e5_embedder, Judge(one_feature_model()))
    question = "百奥赛图是第一家规模化开发什么小鼠的企业？它的创始人毕业于哪所大学？"
    whole = analyze(question)
    assert not step.judge.decide(whole, step._evidence(whole, [passage()])).answerable, "refused when judged whole"
    two = step(question, [passage()])
    assert two.answerable and two.subject_found
    assert two.evidence.analysis.text == question, "the answer is still composed for the whole question"
    off = EvidenceJudge(None, e5_embedder)("红烧肉怎么做才好吃？糖醋排骨要炖多久？", [passage()])  # the packaged subject floor
    assert not off.answerable and not off.subject_found


@pytest.mark.slow
def test_a_question_asking_the_same_of_two_things_is_not_answered_from_a_passage_on_one(e5_embedder):
    """「茶园音乐节和茶园半程马拉松，各自来了多少人」 against a passage on the music festival only: judged on its own,
    the marathon's part looked answered by the festival's 1.8万人次 until the parts had to name both conjuncts."""
    festival = ("浙江松阳今年9月在一处千年古村举办的茶园音乐节便是一例。两天的音乐节共吸引乐迷1.8万人次，门票收入约950万元，"
                "当地80%以上的民宿在活动前两周即被订满。")
    step = EvidenceJudge(None, e5_embedder)
    only = [Passage(text=festival, source="107.txt", title="文旅", score=1.0, start=0, end=len(festival), chunk_id="c1")]
    question = "松阳今年办的茶园音乐节和茶园半程马拉松，各自来了多少人？"
    assert step._coordinated(question, only) is None
    assert not step(question, only).answerable
