"""TweetEval stance (SemEval-2016 Task 6): the official figure for our stance model.

    python bench/tweeteval.py [BENCHMARKS_DIR]

Parameters are chosen on `val` only (a small grid, models trained on
`train`, scored on the five val sets pooled); then for each target
`sentiment train` trains on `train` with them and the model predicts `test`. The official metric is the mean of
F1(against) and F1(favor) over the five targets' test predictions pooled,
with a 95% bootstrap interval over the test tweets.

The same protocol is then run for the floor the issue names, a plain word
(1-3) + character (2-5) TF-IDF logistic regression from scikit-learn alone
(its C, class weights and character analyzer chosen on val), so that both
figures stand on the same footing.
Default BENCHMARKS_DIR: ../shared/benchmarks next to this checkout.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline, make_union

from sentiment.classify import StanceClassifier, load_examples, load_model

TARGETS = ["abortion", "atheism", "climate", "feminist", "hillary"]
GRID = {"C": [0.3, 1.0, 3.0, 8.0], "class_weight": ["balanced", None], "vader": [True, False]}
PLAIN_GRID = {"C": [0.3, 1.0, 3.0, 10.0, 30.0], "class_weight": ["balanced", None], "analyzer": ["char", "char_wb"]}


def official(y_true: list[str], y_pred: list[str]) -> float:
    f = f1_score(y_true, y_pred, labels=["against", "favor"], average=None, zero_division=0)
    return float(f.mean())


def interval(y_true: list[str], y_pred: list[str], draws: int = 1000) -> tuple[float, float]:
    """95% bootstrap interval of the official metric, resampling the pooled test tweets."""
    rng = np.random.default_rng(0)
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    scores = [official(truth[i], pred[i]) for i in (rng.integers(0, len(truth), len(truth)) for _ in range(draws))]
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def print_official(name: str, y_true: list[str], y_pred: list[str]) -> None:
    low, high = interval(y_true, y_pred)
    print(f"{name}: {official(y_true, y_pred) * 100:.1f} (95% interval {low * 100:.1f} to {high * 100:.1f})")


def chosen_on_val(make_model: Callable[..., Any], grid: dict[str, list[Any]], data: dict[str, tuple[Any, Any]],
                  name: str) -> dict[str, Any]:
    """The grid's parameters that score best on the five val sets pooled, each model trained on its train set.

    One parameter set for all targets: each val set alone (40 to 69 tweets) is too small to choose by.
    """
    val_true = [label for _, val in data.values() for label in val.labels]
    best, best_score = {}, -1.0
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values))
        val_pred = [label for train, val in data.values()
                    for label in make_model(**params).fit(train.texts, train.labels).predict(val.texts).tolist()]
        score = official(val_true, val_pred)
        print(f"{name} val {score * 100:.1f} with {params}", flush=True)
        if score > best_score:
            best, best_score = params, score
    print(f"{name} chosen on val: {best} (val {best_score * 100:.1f})")
    return best


def plain_model(C: float, class_weight: str | None, analyzer: str) -> Any:
    features = make_union(TfidfVectorizer(ngram_range=(1, 3)), TfidfVectorizer(analyzer=analyzer, ngram_range=(2, 5)))
    return make_pipeline(features, LogisticRegression(C=C, class_weight=class_weight, max_iter=3000))


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
    base = root / "tweeteval_stance"
    data = {t: (load_examples(base / t / "train.tsv"), load_examples(base / t / "val.tsv")) for t in TARGETS}
    tests = {t: load_examples(base / t / "test.tsv") for t in TARGETS}
    pooled_true = [label for test in tests.values() for label in test.labels]

    best = chosen_on_val(lambda **params: StanceClassifier(cv=None, **params), GRID, data, "ours")
    pooled_pred: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for target, test in tests.items():
            model_path = Path(tmp) / f"{target}.model"
            args = [sys.executable, "-m", "sentiment.cli", "-q", "train", str(base / target / "train.tsv"),
                    "--output", str(model_path)]
            for name, value in best.items():
                args += ["--param", f"{name}={value}"]
            subprocess.run(args, check=True)
            pred = load_model(model_path).predict(test.texts).tolist()
            pooled_pred += pred
            print(f"{target}: test {official(test.labels, pred) * 100:.1f}", flush=True)
    f = f1_score(pooled_true, pooled_pred, labels=["against", "favor"], average=None, zero_division=0)
    print(f"f1_against: {f[0] * 100:.1f}")
    print(f"f1_favor: {f[1] * 100:.1f}")
    print_official("tweeteval_stance_official", pooled_true, pooled_pred)

    # The floor, by the same protocol: chosen on val, trained on train, scored on test.
    plain = chosen_on_val(plain_model, PLAIN_GRID, data, "plain")
    plain_pred = [label for target, test in tests.items()
                  for label in plain_model(**plain).fit(data[target][0].texts, data[target][0].labels)
                  .predict(test.texts).tolist()]
    print_official("plain_tfidf_lr_official", pooled_true, plain_pred)


if __name__ == "__main__":
    main()
