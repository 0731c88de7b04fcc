"""The learned part of answering, as stored in ``judge_model.json``.

The sentence ranker, the two answerability classifiers (Chinese questions; English ones by meaning
only), the subject floor and the reader of sentence vectors (``Reader``), trained on the tune split by
``bench/train_judge.py``. Inference is numpy only. ``evidence`` ranks with the ranker and reads the best
sentences with the reader; ``judge`` decides with the classifiers.

A classifier is a logistic regression, optionally averaged with boosted trees over the same features
(``TreeEnsemble``): the trees can read interactions a linear model cannot (one feature mattering only when another
is high or low), and on held-out writing batches the average separates better (AUC 0.933 against 0.916 for
the regression alone on 3068 tune questions, ``bench/results/judge_cv.json``).
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
MODEL_FORMAT = 4  # 2: a classifier may carry boosted trees beside its linear model; 3: ``crosslingual`` (was
# ``semantic``); 4: the ``reader`` of sentence vectors


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
class TreeEnsemble:
    """Boosted regression trees on the log-odds (scikit-learn's ``HistGradientBoostingClassifier``, exported):
    logit = baseline + the sum of one leaf value per tree; a row goes left where ``x[feature] <= threshold``.

    The nodes of all trees lie in flat arrays (``feature`` is -1 at a leaf; ``left``/``right`` index the
    same arrays), so every tree is walked at once, ``depth`` steps in all.
    """

    features: tuple[str, ...]
    baseline: float
    roots: tuple[int, ...]
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]
    depth: int

    def __post_init__(self) -> None:
        n = len(self.feature)
        if not (len(self.threshold) == len(self.left) == len(self.right) == len(self.value) == n):
            raise ValueError("TreeEnsemble: feature, threshold, left, right and value must have the same length")
        arrays = {name: np.asarray(getattr(self, name)) for name in ("roots", "feature", "left", "right")}
        if n and (arrays["roots"].min(initial=0) < 0 or arrays["roots"].max(initial=0) >= n):
            raise ValueError("TreeEnsemble: a root lies outside the nodes")
        inner = arrays["feature"] >= 0
        if (arrays["feature"] >= len(self.features)).any():
            raise ValueError("TreeEnsemble: a node splits on a feature the ensemble does not name")
        for side in ("left", "right"):
            child = arrays[side][inner]
            if ((child < 0) | (child >= n)).any():
                raise ValueError(f"TreeEnsemble: a {side} child lies outside the nodes")
        if self.depth < 0:
            raise ValueError("TreeEnsemble.depth must be ≥ 0")
        # numpy copies for inference, made once (the dataclass is frozen, hence object.__setattr__)
        object.__setattr__(self, "_arrays", {
            **{k: v.astype(np.int64) for k, v in arrays.items()},
            "threshold": np.asarray(self.threshold, dtype=np.float64),
            "value": np.asarray(self.value, dtype=np.float64),
        })

    def logits(self, x: np.ndarray) -> np.ndarray:
        a = self._arrays  # type: ignore[attr-defined]
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows = np.arange(len(x))[:, None]
        node = np.tile(a["roots"], (len(x), 1))
        for _ in range(self.depth):
            feature = a["feature"][node]
            leaf = feature < 0
            goes_left = x[rows, np.where(leaf, 0, feature)] <= a["threshold"][node]
            node = np.where(leaf, node, np.where(goes_left, a["left"][node], a["right"][node]))
        return self.baseline + a["value"][node].sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(x)))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "baseline": self.baseline, "depth": self.depth,
                "roots": list(self.roots), "feature": list(self.feature), "threshold": list(self.threshold),
                "left": list(self.left), "right": list(self.right), "value": list(self.value)}

    @classmethod
    def from_dict(cls, data: dict) -> "TreeEnsemble":
        ints = lambda key: tuple(int(v) for v in data[key])  # noqa: E731
        floats = lambda key: tuple(float(v) for v in data[key])  # noqa: E731
        return cls(tuple(data["features"]), float(data["baseline"]), ints("roots"), ints("feature"),
                   floats("threshold"), ints("left"), ints("right"), floats("value"), int(data["depth"]))


@dataclass(frozen=True)
class Classifier:
    """A linear model, optionally averaged with boosted trees, and the probability threshold below which the
    judge refuses."""

    model: LinearModel
    threshold: float
    trees: TreeEnsemble | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.01:  # 1.01: the refusal curve's refuse-everything point
            raise ValueError("Classifier.threshold must lie in [0, 1.01]")

    def probability(self, evidence: FeatureSource) -> float:
        p = float(self.model.probability(evidence.vector(self.model.features))[0])
        if self.trees is not None:
            p = (p + float(self.trees.probability(evidence.vector(self.trees.features))[0])) / 2
        return p

    def to_dict(self) -> dict:
        data = {**self.model.to_dict(), "threshold": self.threshold}
        if self.trees is not None:
            data["trees"] = self.trees.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Classifier":
        trees = TreeEnsemble.from_dict(data["trees"]) if data.get("trees") else None
        return cls(LinearModel.from_dict(data), float(data["threshold"]), trees)


@dataclass(frozen=True)
class Reader:
    """Whether a sentence answers a question, read from their e5 vectors: a logistic regression over the vectors'
    elementwise product and their cosine, logit = [s ⊙ q, s · q] · coef + intercept. Plain cosine says a sentence is
    about what the question is about; the weights say which of e5's dimensions must agree for it to give what the
    question asks (trained on the tune split's candidate sentences: those holding the evidence of an answerable
    question against the rest, every sentence of an unanswerable question among them, ``bench/train_judge.py``)."""

    coef: tuple[float, ...]
    intercept: float
    embed_model: str = ""  # the embedding model whose vectors it reads ("" reads any)

    def __post_init__(self) -> None:
        if len(self.coef) < 2:
            raise ValueError("Reader: coef needs a weight per dimension and one for the cosine")
        object.__setattr__(self, "_coef", np.asarray(self.coef, dtype=np.float64))  # made once (frozen)

    def reads(self, embedder: object) -> bool:
        """The reader's weights mean something for this embedder's vectors: the model it was trained on."""
        return not self.embed_model or getattr(embedder, "model_id", self.embed_model) == self.embed_model

    def logits(self, question: np.ndarray, sentences: np.ndarray) -> np.ndarray:
        """One logit per row of ``sentences`` (unit vectors, as ``question``)."""
        q = np.asarray(question, dtype=np.float64)
        s = np.atleast_2d(np.asarray(sentences, dtype=np.float64))
        if s.shape[1] + 1 != len(self.coef) or q.shape != (s.shape[1],):
            raise ValueError(f"Reader: vectors of {s.shape[1]} dimensions against weights for {len(self.coef) - 1}")
        coef = self._coef  # type: ignore[attr-defined]
        return (s * q) @ coef[:-1] + (s @ q) * coef[-1] + self.intercept

    def to_dict(self) -> dict:
        return {"coef": list(self.coef), "intercept": self.intercept, "embed_model": self.embed_model}

    @classmethod
    def from_dict(cls, data: dict) -> "Reader":
        return cls(tuple(float(c) for c in data["coef"]), float(data["intercept"]), str(data.get("embed_model", "")))


@dataclass(frozen=True)
class JudgeModel:
    """Everything learned: the sentence ranker, the two answerability classifiers, the subject floor, the reader."""

    ranker: LinearModel
    full: Classifier | None
    crosslingual: Classifier | None  # for questions in another language (``QuestionAnalysis.crosslingual``)
    subject: dict
    meta: dict
    reader: Reader | None = None  # the vectors' reading of each candidate sentence (``reader_max``)

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> "JudgeModel":
        path = Path(path)
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls.untrained()
        except (OSError, ValueError) as exc:
            raise ConfigError(f"回答判断模型文件 {path} 无法读取（{exc}）：请用 `python bench/train_judge.py` 重新训练") from exc
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ConfigError(f"回答判断模型文件 {path} 的格式版本不对：请用 `python bench/train_judge.py` 重新训练")
        try:
            return cls(
                LinearModel.from_dict(data["ranker"]),
                Classifier.from_dict(data["full"]) if data.get("full") else None,
                Classifier.from_dict(data["crosslingual"]) if data.get("crosslingual") else None,
                dict(data.get("subject", {})),
                dict(data.get("meta", {})),
                Reader.from_dict(data["reader"]) if data.get("reader") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:  # a field missing, of the wrong kind, or inconsistent
            raise ConfigError(f"回答判断模型文件 {path} 已损坏（{exc!r}）：请用 `python bench/train_judge.py` 重新训练") from exc

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
            "crosslingual": self.crosslingual.to_dict() if self.crosslingual else None,
            "subject": self.subject,
            "reader": self.reader.to_dict() if self.reader else None,
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
