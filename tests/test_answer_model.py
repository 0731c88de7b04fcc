"""The learned model file: it loads, round-trips, validates, and has a safe untrained fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.model import MODEL_PATH, JudgeModel, LinearModel, default_model
from rag.errors import ConfigError


def test_the_packaged_model_loads_and_round_trips():
    model = default_model()
    assert model.meta.get("trained", True) and model.full is not None and model.semantic is not None
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


def test_a_missing_file_means_untrained_and_a_damaged_one_says_how_to_retrain(tmp_path):
    assert JudgeModel.load(tmp_path / "none.json").meta == {"trained": False}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(ConfigError, match="train_judge"):
        JudgeModel.load(bad)
