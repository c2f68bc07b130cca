"""Group shares that are honest: corrected for the classifier's error, with intervals.

Counting the model's labels ("classify and count") is biased whenever the
model's errors are not symmetric: if it calls 15% of group A's posts B but
only 5% of B's posts A, group A is under-counted, and more so the larger A
is. We correct the count with the model's error
rates measured by cross-validation on the labeled examples:

* ``acc`` (adjusted classify and count): with ``M[i, j]`` the share of posts
  of true group ``j`` that the model puts in group ``i``, the observed label
  shares are ``q = M p``; we solve for the true shares ``p`` (non-negative,
  summing to one).
* ``pacc`` (probabilistic ACC): the same with average predicted
  probabilities instead of hard labels.
* ``cc``: the plain count, for comparison.

The 95% interval comes from a bootstrap that resamples **both** the labeled
examples (so the error rates are re-estimated each time: they are known only
from a finite labeled set) **and** the posts being measured (for hard labels,
resampling the posts is drawing their label counts from a multinomial, so
only the counts are needed). Intervals that
resample only the posts are too narrow once the mix of groups differs from
the training mix.

>>> import numpy as np
>>> cv_labels = np.array([0] * 80 + [1] * 80)
>>> cv_pred = np.array([0] * 72 + [1] * 8 + [1] * 60 + [0] * 20)   # group 1 is often missed
>>> predicted = np.array([0] * 46 + [1] * 34)   # 40 posts of each group, labeled with those errors
>>> est = estimate_shares(np.eye(2)[predicted], np.eye(2)[cv_pred], cv_labels, method="acc", n_boot=200)
>>> round(float(est.raw_shares[1]), 3), round(float(est.shares[1]), 3)
(0.425, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

__all__ = ["ShareEstimate", "PostTotals", "estimate_shares", "estimate_shares_from_totals", "METHODS"]

METHODS = ("acc", "pacc", "cc")


@dataclass(frozen=True)
class ShareEstimate:
    """Shares per group (in class order): corrected, 95% interval, and plain counts."""

    method: str
    shares: np.ndarray
    low: np.ndarray
    high: np.ndarray
    raw_shares: np.ndarray
    n: int


def _solve(M: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Non-negative p with sum 1 minimising |M p - q| (the sum is a heavily weighted extra row)."""
    k = M.shape[1]
    A = np.vstack([M, 1e3 * np.ones((1, k))])
    b = np.concatenate([q, [1e3]])
    p, _ = nnls(A, b)
    total = p.sum()
    return p / total if total > 0 else np.full(k, 1.0 / k)


def _misclassification(cv_scores: np.ndarray, cv_labels: np.ndarray, k: int) -> np.ndarray:
    """M[i, j]: mean score for group i over labeled examples of true group j."""
    M = np.zeros((k, k))
    for j in range(k):
        rows = cv_scores[cv_labels == j]
        M[:, j] = rows.mean(axis=0) if len(rows) else np.eye(k)[j]
    return M


def _scores(proba: np.ndarray, method: str) -> np.ndarray:
    if method == "pacc":
        return proba
    return np.eye(proba.shape[1])[np.argmax(proba, axis=1)]  # acc and cc use hard labels


@dataclass(frozen=True)
class PostTotals:
    """What share estimation needs of the posts: sums, so partitions add up.

    ``label_counts[j]``: posts whose most probable group is ``j``;
    ``proba_sum`` and ``proba_outer_sum``: the sum of the probability rows and
    of their outer products (for the probabilistic method). Totals of parts of
    a corpus add to the totals of the whole, which is how a cluster computes
    shares without gathering the posts (see :mod:`sentiment.distributed`).
    """

    n: int
    label_counts: np.ndarray
    proba_sum: np.ndarray
    proba_outer_sum: np.ndarray

    @classmethod
    def of(cls, proba: np.ndarray) -> PostTotals:
        proba = np.asarray(proba, dtype=float)
        k = proba.shape[1]
        counts = np.bincount(np.argmax(proba, axis=1), minlength=k) if len(proba) else np.zeros(k, dtype=np.int64)
        return cls(len(proba), counts.astype(np.int64), proba.sum(axis=0), proba.T @ proba)

    def __add__(self, other: PostTotals) -> PostTotals:
        return PostTotals(self.n + other.n, self.label_counts + other.label_counts, self.proba_sum + other.proba_sum,
                          self.proba_outer_sum + other.proba_outer_sum)

    def __sub__(self, other: PostTotals) -> PostTotals:
        return PostTotals(self.n - other.n, self.label_counts - other.label_counts, self.proba_sum - other.proba_sum,
                          self.proba_outer_sum - other.proba_outer_sum)


def estimate_shares(
    proba: np.ndarray,
    cv_proba: np.ndarray,
    cv_labels: np.ndarray,
    *,
    method: str = "acc",
    n_boot: int = 1000,
    seed: int = 0,
) -> ShareEstimate:
    """Estimate group shares of the posts behind ``proba``.

    ``proba`` (n_posts x k) are the model's probabilities for the posts;
    ``cv_proba`` (n_labeled x k) its out-of-fold probabilities on the labeled
    examples, whose true class indices are ``cv_labels``. Deterministic for a
    given ``seed``.
    """
    k = np.asarray(cv_proba).shape[1]
    return estimate_shares_from_totals(PostTotals.of(np.asarray(proba, dtype=float).reshape(-1, k)), cv_proba,
                                       cv_labels, method=method, n_boot=n_boot, seed=seed)


def estimate_shares_from_totals(
    totals: PostTotals,
    cv_proba: np.ndarray,
    cv_labels: np.ndarray,
    *,
    method: str = "acc",
    n_boot: int = 1000,
    seed: int = 0,
) -> ShareEstimate:
    """:func:`estimate_shares` from the posts' :class:`PostTotals` alone."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    cv_proba = np.asarray(cv_proba, dtype=float)
    cv_labels = np.asarray(cv_labels)
    k = cv_proba.shape[1]
    n = totals.n
    if n == 0:
        zeros = np.zeros(k)
        return ShareEstimate(method, zeros, zeros, zeros, zeros, 0)
    raw = totals.label_counts / n
    cv_scores = _scores(cv_proba, method)
    q_point = totals.proba_sum / n if method == "pacc" else raw
    point = q_point if method == "cc" else _solve(_misclassification(cv_scores, cv_labels, k), q_point)

    rng = np.random.default_rng(seed)
    if method == "pacc":
        # The mean of n probability rows: its normal approximation, from the totals.
        cov = (totals.proba_outer_sum / n - np.outer(q_point, q_point)) * (n / max(n - 1, 1))
        factor = "cholesky" if np.all(np.linalg.eigvalsh(cov) > 0) else "svd"
    reps = np.empty((n_boot, k))
    for b in range(n_boot):
        if method == "pacc":
            q = rng.multivariate_normal(q_point, cov / n, method=factor)
        else:
            # Resampling n posts with replacement draws their labels' counts from this multinomial.
            q = rng.multinomial(n, raw) / n
        cal = rng.integers(0, len(cv_labels), len(cv_labels))
        if method == "cc":
            reps[b] = q
        else:
            reps[b] = _solve(_misclassification(cv_scores[cal], cv_labels[cal], k), q)
    low, high = np.percentile(reps, 2.5, axis=0), np.percentile(reps, 97.5, axis=0)
    # A percentile interval of a constrained estimate can miss the point itself
    # at the edges (a share of 0); widen it to include the estimate.
    return ShareEstimate(method, point, np.minimum(low, point), np.maximum(high, point), raw, n)
