"""Evaluation: how well a model sorts posts it has not seen, and how far off its shares are.

:func:`evaluate` compares predictions with gold labels: per-group precision,
recall and F1, macro-F1, the confusion matrix, the same per language, and the
error of the group shares, both plain (classify and count) and corrected
(:mod:`sentiment.quantify`).

>>> import numpy as np
>>> report = evaluate(["a", "a", "b", "b"], np.array([[.9, .1], [.6, .4], [.3, .7], [.8, .2]]), ["a", "b"])
>>> report.accuracy, report.confusion
(0.75, [[2, 0], [1, 1]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .quantify import estimate_shares

__all__ = ["GroupScore", "Evaluation", "evaluate"]


@dataclass(frozen=True)
class GroupScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Evaluation:
    """Scores of a model on labeled posts. ``confusion[i][j]``: true group i labeled j."""

    n: int
    labels: list[str]
    accuracy: float
    macro_f1: float
    groups: dict[str, GroupScore]
    confusion: list[list[int]]
    true_shares: dict[str, float]
    raw_shares: dict[str, float]
    corrected_shares: dict[str, float] | None = None
    corrected_ci: dict[str, list[float]] | None = None
    languages: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The folds of the cross-validation these figures come from, if they do.
    cv_folds: int | None = None

    @property
    def raw_share_error(self) -> float:
        """Largest gap, in share points, between a plain-count share and the truth."""
        return max(abs(self.raw_shares[g] - self.true_shares[g]) for g in self.labels)

    @property
    def corrected_share_error(self) -> float | None:
        if self.corrected_shares is None:
            return None
        return max(abs(self.corrected_shares[g] - self.true_shares[g]) for g in self.labels)

    def to_text(self) -> str:
        """The figures as a plain-text table, as `sentiment evaluate` prints them."""
        cv = f" ({self.cv_folds}-fold cross-validation on the topic examples)" if self.cv_folds else ""
        lines = [f"{self.n} posts{cv}",
                 f"accuracy {self.accuracy:.3f}   macro-F1 {self.macro_f1:.3f}", ""]
        width = max(len(g) for g in self.labels) + 2
        lines.append(f"{'group':<{width}}precision  recall     F1  support")
        for g, sc in self.groups.items():
            lines.append(f"{g:<{width}}{sc.precision:9.3f}{sc.recall:8.3f}{sc.f1:7.3f}{sc.support:9d}")
        lines += ["", "confusion (rows: true group, columns: predicted)",
                  " " * width + "".join(f"{g[:10]:>11}" for g in self.labels)]
        lines += [f"{g:<{width}}" + "".join(f"{v:11d}" for v in row) for g, row in zip(self.labels, self.confusion)]
        if self.languages:
            lines += ["", "by language"]
            lines += [f"  {lang:<4} n={f['n']:<6} accuracy {f['accuracy']:.3f}  macro-F1 {f['macro_f1']:.3f}"
                      for lang, f in self.languages.items()]
        lines += ["", "shares   true   counted" + ("  corrected [95% interval]" if self.corrected_shares else "")]
        for g in self.labels:
            line = f"  {g:<{width}}{self.true_shares[g]:6.1%}  {self.raw_shares[g]:7.1%}"
            if self.corrected_shares and self.corrected_ci:
                low, high = self.corrected_ci[g]
                line += f"  {self.corrected_shares[g]:8.1%} [{low:.1%}, {high:.1%}]"
            lines.append(line)
        error = f"largest share error: counted {self.raw_share_error:.1%}"
        if self.corrected_share_error is not None:
            error += f", corrected {self.corrected_share_error:.1%}"
        return "\n".join([*lines, error])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["raw_share_error"] = self.raw_share_error
        out["corrected_share_error"] = self.corrected_share_error
        return out


def _scores(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> tuple[float, float, dict[str, GroupScore]]:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    groups = {g: GroupScore(float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, g in enumerate(labels)}
    present = [i for i, g in enumerate(labels) if s[i] > 0]
    macro = float(np.mean([f[i] for i in present])) if present else 0.0
    return float(np.mean(y_true == y_pred)), macro, groups


def evaluate(
    y_true: Sequence[str],
    proba: np.ndarray,
    labels: Sequence[str],
    *,
    langs: Sequence[str | None] | None = None,
    calibration: tuple[np.ndarray, np.ndarray] | None = None,
) -> Evaluation:
    """Score predicted probabilities ``proba`` (columns in ``labels`` order) against ``y_true``.

    With ``calibration`` (the model's out-of-fold probabilities and true
    label indices, same column order) the corrected shares are scored too.
    Macro-F1 averages the groups present in ``y_true``.
    """
    labels = list(labels)
    y = np.asarray(list(y_true), dtype=object)
    proba = np.asarray(proba, dtype=float)
    unknown = set(y) - set(labels)
    if unknown:
        raise ValueError(f"gold labels outside the model's groups: {sorted(unknown)}")
    pred = np.asarray(labels, dtype=object)[np.argmax(proba, axis=1)]
    accuracy, macro, groups = _scores(y, pred, labels)
    n = len(y)
    true_shares = {g: float(np.mean(y == g)) for g in labels}
    raw_shares = {g: float(np.mean(pred == g)) for g in labels}
    result = Evaluation(
        n=n, labels=labels, accuracy=accuracy, macro_f1=macro, groups=groups,
        confusion=confusion_matrix(y, pred, labels=labels).tolist(), true_shares=true_shares, raw_shares=raw_shares,
    )
    if calibration is not None and n:
        est = estimate_shares(proba, calibration[0], calibration[1], method="acc")
        result.corrected_shares = {g: float(est.shares[i]) for i, g in enumerate(labels)}
        result.corrected_ci = {g: [float(est.low[i]), float(est.high[i])] for i, g in enumerate(labels)}
    if langs is not None:
        lang_arr = np.asarray([lang or "?" for lang in langs], dtype=object)
        for lang in sorted(set(lang_arr)):
            mask = lang_arr == lang
            acc, mf1, _ = _scores(y[mask], pred[mask], labels)
            result.languages[lang] = {"n": int(mask.sum()), "accuracy": acc, "macro_f1": mf1}
    return result
