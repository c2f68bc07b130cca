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
from a finite labeled set) **and** the posts being measured. Intervals that
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

__all__ = ["ShareEstimate", "estimate_shares", "METHODS"]

METHODS = ("acc", "pacc", "cc")
#: Above this many posts the bootstrap draws the posts' part from its normal
#: approximation instead of resampling every post (same answer, flat cost).
_EXACT_RESAMPLE_LIMIT = 20_000


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


def _point(target_scores: np.ndarray, cv_scores: np.ndarray, cv_labels: np.ndarray, method: str) -> np.ndarray:
    q = target_scores.mean(axis=0)
    if method == "cc":
        return q
    return _solve(_misclassification(cv_scores, cv_labels, q.shape[0]), q)


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
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    proba = np.asarray(proba, dtype=float)
    cv_proba = np.asarray(cv_proba, dtype=float)
    cv_labels = np.asarray(cv_labels)
    k = cv_proba.shape[1]
    n = len(proba)
    if n == 0:
        zeros = np.zeros(k)
        return ShareEstimate(method, zeros, zeros, zeros, zeros, 0)
    target = _scores(proba, method)
    cv_scores = _scores(cv_proba, method)
    raw = np.eye(k)[np.argmax(proba, axis=1)].mean(axis=0)
    point = _point(target, cv_scores, cv_labels, method)

    rng = np.random.default_rng(seed)
    mean, cov = target.mean(axis=0), np.cov(target, rowvar=False) if n > 1 else np.zeros((k, k))
    factor = "cholesky" if np.all(np.linalg.eigvalsh(cov) > 0) else "svd"
    reps = np.empty((n_boot, k))
    for b in range(n_boot):
        if n <= _EXACT_RESAMPLE_LIMIT:
            q_scores = target[rng.integers(0, n, n)]
            q = q_scores.mean(axis=0)
        else:
            q = rng.multivariate_normal(mean, cov / n, method=factor)
        cal = rng.integers(0, len(cv_labels), len(cv_labels))
        if method == "cc":
            reps[b] = q
        else:
            reps[b] = _solve(_misclassification(cv_scores[cal], cv_labels[cal], k), q)
    low, high = np.percentile(reps, 2.5, axis=0), np.percentile(reps, 97.5, axis=0)
    # A percentile interval of a constrained estimate can miss the point itself
    # at the edges (a share of 0); widen it to include the estimate.
    return ShareEstimate(method, point, np.minimum(low, point), np.maximum(high, point), raw, n)
