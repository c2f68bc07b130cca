"""Summaries: how many posts fall in each group, and each group's share.

Shares here are plain classify-and-count shares with a 95% Wilson score
interval for the sampling of posts. (The interval does not yet include the
classifier's own error; the methods page of each report says so.)

>>> s = summarize(["a", "a", "b"], ["a", "b"])
>>> round(s.groups["a"].share, 3), s.groups["b"].n
(0.667, 1)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["GroupShare", "Summary", "summarize", "wilson_interval"]

_Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k/n`` (``(0, 0)`` when ``n`` is 0).

    >>> tuple(round(x, 3) for x in wilson_interval(5, 10))
    (0.237, 0.763)
    """
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class GroupShare:
    """One group's count, share and 95% interval."""

    id: str
    n: int
    share: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class Summary:
    """Group shares over ``n_posts`` posts."""

    n_posts: int
    groups: dict[str, GroupShare] = field(default_factory=dict)


def summarize(labels: Iterable[str], group_ids: Sequence[str]) -> Summary:
    """Count labels per group (in the topic's group order) and compute shares.

    A label outside ``group_ids`` is a bug upstream and raises ``ValueError``.
    With no posts every share is 0 (there is nothing to divide).
    """
    counts = Counter(labels)
    unknown = set(counts) - set(group_ids)
    if unknown:
        raise ValueError(f"labels outside the topic's groups: {sorted(unknown)}")
    total = sum(counts.values())
    groups = {
        gid: GroupShare(gid, counts[gid], counts[gid] / total if total else 0.0, wilson_interval(counts[gid], total))
        for gid in group_ids
    }
    return Summary(total, groups)
