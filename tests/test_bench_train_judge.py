"""The judge-training script's arithmetic (bench/train_judge.py): refusal curves, the operating point
with its false-refusal bound, each batch's figures at it, and the held-out-batch split."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
train_judge = pytest.importorskip("train_judge")


def test_the_refusal_curve_counts_both_kinds_below_each_threshold():
    p = np.array([0.1, 0.2, 0.8, 0.9])
    answerable = np.array([False, True, True, True])
    at = {pt["threshold"]: pt for pt in train_judge.refusal_curve(p, answerable)}
    assert at[0.2] == {"threshold": 0.2, "false_refusal": 0.0, "unanswerable_refused": 1.0}
    assert at[0.8]["false_refusal"] == round(1 / 3, 4)  # the curve keeps four decimals


def test_a_question_a_rule_refuses_counts_as_refused_at_every_threshold():
    p = np.array([0.1, 0.9, 0.8, 0.9])
    answerable = np.array([False, False, True, True])
    forced = np.array([False, True, False, True])  # a rule refuses one unanswerable and one answerable question
    at = {pt["threshold"]: pt for pt in train_judge.refusal_curve(p, answerable, forced)}
    assert at[0.0] == {"threshold": 0.0, "false_refusal": 0.5, "unanswerable_refused": 0.5}
    assert at[0.8] == {"threshold": 0.8, "false_refusal": 0.5, "unanswerable_refused": 1.0}
    out = train_judge.by_batch(p, answerable, np.array(["a"] * 4), 0.5, forced)
    assert out["a"]["false_refusal"] == 0.5 and out["a"]["unanswerable_refused"] == 1.0


def test_each_rule_is_reported_with_the_point_the_classifier_reaches_without_it():
    p = np.array([0.1, 0.6, 0.6] + [0.9] * 60)
    answerable = np.array([False] * 3 + [True] * 60)
    ruled = [(), ("period",), ()] + [()] * 59 + [("list",)]
    everyone = np.ones(len(p), dtype=bool)
    point = {"threshold": 0.5}
    report = train_judge.rule_report(p, answerable, ruled, everyone, point)
    assert report["period"]["unanswerable"] == 1 and report["period"]["unanswerable_only_by_it"] == 1
    assert report["period"]["answerable"] == 0
    assert report["list"] == {**report["list"], "answerable": 1, "answerable_only_by_it": 1, "unanswerable": 0}
    # without the list rule, no answerable question is refused below 0.9: the classifier alone can reach 0% here
    assert report["list"]["point_without_it"]["false_refusal"] == 0.0


def test_the_operating_point_keeps_the_false_refusal_bound_within_the_target():
    curve = [{"threshold": 0.3, "false_refusal": 0.0, "unanswerable_refused": 0.4},
             {"threshold": 0.5, "false_refusal": 0.03, "unanswerable_refused": 0.6},
             {"threshold": 0.7, "false_refusal": 0.05, "unanswerable_refused": 0.8}]
    # 5% observed on 300 answerable questions has an upper bound above 5%: the 3% point is taken
    assert train_judge.best_point(curve, 300)["threshold"] == 0.5
    assert train_judge.false_refusal_bound(0.03, 300) <= train_judge.MAX_FALSE_REFUSALS


def test_each_batch_is_reported_at_the_pooled_threshold():
    p = np.array([0.1, 0.9, 0.9, 0.1, 0.2, 0.9])
    answerable = np.array([False, True, True, False, True, True])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    out = train_judge.by_batch(p, answerable, groups, 0.5)
    assert out["a"] == {"false_refusal": 0.0, "unanswerable_refused": 1.0, "n_answerable": 2, "n_unanswerable": 1}
    assert out["b"]["false_refusal"] == 0.5 and out["b"]["unanswerable_refused"] == 1.0


def test_held_out_batch_predictions_never_come_from_a_model_that_saw_the_batch():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] > 0).astype(int)
    groups = np.repeat(["a", "b", "c"], 20)
    x_flipped = x.copy()
    x_flipped[groups == "c", 0] *= -1  # batch c's feature means the opposite: held out, it is scored wrongly
    p = train_judge.cross_validate_by_group(x_flipped, y, groups, train_judge.regression(1.0))
    c = groups == "c"
    assert ((p[c] > 0.5) == y[c].astype(bool)).mean() < 0.5 < ((p[~c] > 0.5) == y[~c].astype(bool)).mean()


def test_the_operating_point_is_set_on_the_new_writers_batches():
    groups = np.array(["1-2", "1-2", "3", "4", "7", "12"])
    assert train_judge.new_writer_batches(groups).tolist() == [False, False, False, True, True, True]
    # without numbered batches, or without new writers, every row counts
    assert train_judge.new_writer_batches(np.array(["1-2", "3"])).all()
    assert train_judge.new_writer_batches(np.array(["a", "b"])).all()


def test_exported_trees_predict_exactly_what_scikit_learn_predicts():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = ((x[:, 0] > 0.2) ^ (x[:, 1] * x[:, 2] > 0.3)).astype(int)  # an interaction a linear model cannot read
    fitted = train_judge.fit_trees(x, y)
    ensemble = train_judge.export_trees(fitted, ("a", "b", "c"))
    fresh = rng.normal(size=(200, 3))
    assert ensemble.depth <= train_judge.TREE_DEPTH
    assert np.allclose(ensemble.probability(fresh), fitted.predict_proba(fresh)[:, 1], atol=1e-9)
    assert np.allclose(ensemble.probability(x[:5]), fitted.predict_proba(x[:5])[:, 1], atol=1e-9)


def test_the_trees_held_out_predictions_never_come_from_a_model_that_saw_the_batch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 2))
    groups = np.repeat(np.array(["1", "2", "3"]), 40)
    y = (x[:, 0] > 0).astype(int)
    y[groups == "3"] = 1 - y[groups == "3"]  # batch 3 says the opposite: a model that saw it could not get it wrong
    p = train_judge.cross_validate_by_group(x, y, groups, train_judge.boosted_trees)
    wrong = (p[groups == "3"] > 0.5) != y[groups == "3"].astype(bool)
    assert wrong.mean() > 0.8


def test_a_batch_kept_fresh_is_left_out_of_training_and_of_the_hash(tmp_path):
    rows = [{"id": f"q{i}", "split": "tune", "batch": b, "question": f"问题{i}"} for i, b in enumerate(["1", "2", "13"])]
    rows.append({"id": "q9", "split": "test", "batch": "1", "question": "问题9"})
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    kept, digest = train_judge.load_questions(path, "tune", ("13",))
    assert [q["id"] for q in kept] == ["q0", "q1"]
    everything, other = train_judge.load_questions(path, "tune")
    assert len(everything) == 3 and other != digest


def test_the_packaged_model_was_trained_on_the_tune_split_less_its_fresh_batches():
    from rag.answer.model import default_model

    meta = default_model().meta
    root = Path(__file__).resolve().parent.parent
    _, digest = train_judge.load_questions(root / "eval" / "questions.jsonl", meta["split"],
                                           tuple(meta.get("excluded_batches", ())))
    assert digest == meta["questions_sha256"], "retrain: python bench/train_judge.py (README, Evaluation)"


def _reader_questions(rng, n, answer_dim=0):
    """Unit question vectors and three candidates each; the answering candidate (label 1, when the question is
    answerable) agrees with the question on ``answer_dim`` only, the others on the rest."""
    data = []
    for k in range(n):
        q = rng.normal(size=8)
        q /= np.linalg.norm(q)
        sentences = rng.normal(size=(3, 8)) * 0.1
        answerable = k % 2 == 0
        if answerable:
            sentences[0, answer_dim] += q[answer_dim] * 5
        sentences[1:, 1:] += q[1:] * 2
        sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
        data.append((q, sentences, [1, 0, 0] if answerable else [0, 0, 0]))
    return data


def test_the_reader_learns_which_dimensions_must_agree_and_reproduces_scikit_learn():
    data = _reader_questions(np.random.default_rng(0), 200)
    reader = train_judge.fit_reader(data, "toy")
    assert reader.embed_model == "toy" and len(reader.coef) == 8 + 1
    q, sentences, _ = data[0]
    # it ranks the sentence that agrees on the answer dimension above those that share the rest
    assert reader.logits(q, sentences).argmax() == 0
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([train_judge.reader_rows(q, s) for q, s, _ in data])
    y = np.concatenate([labels for _, _, labels in data])
    lr = LogisticRegression(C=train_judge.READER_C, class_weight="balanced", max_iter=3000).fit(x, y)
    assert reader.logits(q, sentences) == pytest.approx(lr.decision_function(train_judge.reader_rows(q, sentences)))


def test_the_readers_held_out_values_never_come_from_a_reader_that_saw_the_batch():
    data = _reader_questions(np.random.default_rng(1), 60)
    groups = np.array(["a"] * 30 + ["b"] * 30)
    reading = [(q, s) for q, s, _ in data]
    (held_out,) = train_judge.held_out_reader_max(data, groups, reading)
    only_b = train_judge.fit_reader(data[30:])  # what scores batch a: a reader trained on b alone
    q, sentences, _ = data[0]
    assert held_out[0] == pytest.approx(float(only_b.logits(q, sentences[:train_judge.READER_TOP]).max()))
    # a second reading (as an English question is answered) is scored by the same held-out reader
    shuffled = [(q, s[::-1]) for q, s in reading]
    first, second = train_judge.held_out_reader_max(data, groups, reading, shuffled)
    assert np.allclose(first, held_out) and second.shape == first.shape
