"""The learned part of answering, as stored in ``judge_model.json``.

The sentence ranker, the two answerability classifiers (Chinese questions; English ones by meaning
only) and the subject floor, trained on the tune split by ``bench/train_judge.py``. Inference is
numpy only. ``evidence`` ranks with the ranker; ``judge`` decides with the classifiers.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from ..errors import ConfigError


class FeatureSource(Protocol):
    """What a classifier reads: named features as a vector (``Evidence`` in ``rag/answer/evidence.py``)."""

    def vector(self, names: Sequence[str]) -> np.ndarray: ...

MODEL_PATH = Path(__file__).with_name("judge_model.json")
MODEL_FORMAT = 1


@dataclass(frozen=True)
class LinearModel:
    """Standardised logistic-regression weights: logit = ((x - mean) / scale) · coef + intercept."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.coef) == len(self.mean) == len(self.scale) == n):
            raise ValueError("LinearModel: features, coef, mean and scale must have the same length")

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        return z @ np.asarray(self.coef) + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(x)))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": list(self.coef), "intercept": self.intercept,
                "mean": list(self.mean), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: dict) -> "LinearModel":
        return cls(tuple(data["features"]), tuple(float(c) for c in data["coef"]), float(data["intercept"]),
                   tuple(float(m) for m in data["mean"]), tuple(float(s) or 1.0 for s in data["scale"]))


# Before the first training run only (bench/train_judge.py replaces it): similarity and coverage, equally.
UNTRAINED_RANKER = LinearModel(
    ("similarity", "coverage", "typed", "heading"), (1.0, 1.0, 0.3, -0.5), 0.0, (0.8, 0.5, 0.5, 0.2),
    (0.05, 0.25, 0.5, 0.4),
)


@dataclass(frozen=True)
class Classifier:
    """A linear model and the probability threshold below which the judge refuses."""

    model: LinearModel
    threshold: float

    def probability(self, evidence: FeatureSource) -> float:
        return float(self.model.probability(evidence.vector(self.model.features))[0])

    def to_dict(self) -> dict:
        return {**self.model.to_dict(), "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: dict) -> "Classifier":
        return cls(LinearModel.from_dict(data), float(data["threshold"]))


@dataclass(frozen=True)
class JudgeModel:
    """Everything learned: the sentence ranker, the two answerability classifiers, the subject floor."""

    ranker: LinearModel
    full: Classifier | None
    semantic: Classifier | None
    subject: dict
    meta: dict

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> "JudgeModel":
        path = Path(path)
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls.untrained()
        except (OSError, ValueError) as exc:
            raise ConfigError(f"回答判断模型文件 {path} 无法读取（{exc}）：请用 `python bench/train_judge.py` 重新训练") from exc
        if data.get("format") != MODEL_FORMAT:
            raise ConfigError(f"回答判断模型文件 {path} 的格式版本不对：请用 `python bench/train_judge.py` 重新训练")
        return cls(
            LinearModel.from_dict(data["ranker"]),
            Classifier.from_dict(data["full"]) if data.get("full") else None,
            Classifier.from_dict(data["semantic"]) if data.get("semantic") else None,
            dict(data.get("subject", {})),
            dict(data.get("meta", {})),
        )

    @classmethod
    def untrained(cls) -> "JudgeModel":
        """Before the first training run: rank by similarity and coverage, answer everything."""
        return cls(UNTRAINED_RANKER, None, None, {}, {"trained": False})

    def to_dict(self) -> dict:
        return {
            "format": MODEL_FORMAT,
            "meta": self.meta,
            "ranker": self.ranker.to_dict(),
            "full": self.full.to_dict() if self.full else None,
            "semantic": self.semantic.to_dict() if self.semantic else None,
            "subject": self.subject,
        }


_default: JudgeModel | None = None
_default_lock = threading.Lock()


def default_model() -> JudgeModel:
    """The packaged model (``judge_model.json``), loaded once per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JudgeModel.load()
        return _default
