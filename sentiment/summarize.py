"""Summaries: each group's share of the posts, corrected and with a 95% interval.

The shares are estimated by :mod:`sentiment.quantify` (adjusted classify and
count, with a bootstrap interval that includes the uncertainty of the
model's measured error rates); the plain count of labels is kept beside them
as ``raw_share``.

>>> import numpy as np
>>> s = summarize(np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]), ["a", "b"])
>>> s.method, s.groups["a"].n, round(s.groups["a"].raw_share, 3)
('cc', 2, 0.667)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .quantify import PostTotals, estimate_shares_from_totals

__all__ = ["GroupShare", "Summary", "summarize", "summarize_totals"]


@dataclass(frozen=True)
class GroupShare:
    """One group: posts the model put in it, its estimated share, interval and plain share."""

    id: str
    n: int
    share: float
    ci: tuple[float, float]
    raw_share: float


@dataclass(frozen=True)
class Summary:
    """Group shares over ``n_posts`` posts, estimated by ``method``."""

    n_posts: int
    method: str
    groups: dict[str, GroupShare] = field(default_factory=dict)


def summarize(
    proba: np.ndarray,
    group_ids: Sequence[str],
    *,
    cv_proba: np.ndarray | None = None,
    cv_labels: np.ndarray | None = None,
    method: str = "acc",
    seed: int = 0,
) -> Summary:
    """Shares of the posts whose group probabilities are ``proba`` (columns in ``group_ids`` order).

    ``cv_proba``/``cv_labels`` are the model's out-of-fold probabilities on its
    labeled examples (same column order); without them the shares are plain
    counts (``method`` becomes ``cc``) with a bootstrap interval over the posts.
    """
    proba = np.asarray(proba, dtype=float).reshape(-1, len(group_ids))
    return summarize_totals(PostTotals.of(proba), group_ids, cv_proba=cv_proba, cv_labels=cv_labels, method=method,
                            seed=seed)


def summarize_totals(
    totals: PostTotals,
    group_ids: Sequence[str],
    *,
    cv_proba: np.ndarray | None = None,
    cv_labels: np.ndarray | None = None,
    method: str = "acc",
    seed: int = 0,
) -> Summary:
    """:func:`summarize` from the posts' totals (which add up across batches and partitions)."""
    k = len(group_ids)
    if cv_proba is None or cv_labels is None:
        method = "cc"
        cv_proba, cv_labels = np.eye(k), np.arange(k)  # a perfect model: no correction, nothing to resample
    est = estimate_shares_from_totals(totals, cv_proba, cv_labels, method=method, seed=seed)
    counts = totals.label_counts
    groups = {
        gid: GroupShare(gid, int(counts[j]), float(est.shares[j]), (float(est.low[j]), float(est.high[j])),
                        float(est.raw_shares[j]))
        for j, gid in enumerate(group_ids)
    }
    return Summary(totals.n, method, groups)
