"""Copies and campaigns: posts that are the same text, or lightly edited copies of it.

Texts are normalized (case, links, mentions, punctuation and spacing
dropped), cut into word 3-shingles, and grouped when their Jaccard
similarity reaches ``threshold``: candidates come from MinHash LSH
(``datasketch``), so the cost grows with the number of posts, not its
square; every candidate pair is then checked exactly. Deterministic for the
same input.

>>> groups = near_duplicate_groups(["Vote NO on the toll bridge! https://t.co/x",
...     "vote no on the toll bridge", "Something else entirely, about ferries and boats"])
>>> [g.members for g in groups]
[[0, 1]]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

__all__ = ["DuplicateGroup", "near_duplicate_groups", "normalize_for_copies"]

_LINK = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_NON_WORD = re.compile(r"[^\w#]+")
_NUM_PERM = 64


@dataclass(frozen=True)
class DuplicateGroup:
    """Indexes of posts that are copies of each other (first = earliest given)."""

    members: list[int]


def normalize_for_copies(text: str) -> str:
    text = _MENTION.sub(" ", _LINK.sub(" ", text.lower()))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _shingles(norm: str) -> set[str]:
    words = norm.split()
    if len(words) < 3:
        return {norm} if norm else set()
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def near_duplicate_groups(texts: Sequence[str], *, threshold: float = 0.7, min_words: int = 4) -> list[DuplicateGroup]:
    """Groups (of two or more) of near-identical texts, in order of their first member.

    Texts with fewer than ``min_words`` words after normalizing ("lol",
    "🇺🇦🇺🇦") are only grouped when identical: short replies coincide
    without being a campaign.
    """
    norms = [normalize_for_copies(t) for t in texts]
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    exact: dict[str, int] = {}
    for i, norm in enumerate(norms):
        if norm in exact:
            union(exact[norm], i)
        else:
            exact[norm] = i

    lsh = MinHashLSH(threshold=threshold, num_perm=_NUM_PERM)
    # One set of hash permutations for every post (building them is most of a MinHash's cost).
    template = MinHash(num_perm=_NUM_PERM, seed=1)
    shingles: dict[int, set[str]] = {}
    for norm, i in exact.items():
        if len(norm.split()) < min_words:
            continue
        sh = _shingles(norm)
        mh = MinHash(num_perm=_NUM_PERM, seed=1, permutations=template.permutations, scheme=template.scheme)
        mh.update_batch([s.encode("utf-8") for s in sh])
        for j in lsh.query(mh):
            other = shingles[j]
            if len(sh & other) / len(sh | other) >= threshold:
                union(i, j)
        lsh.insert(i, mh)
        shingles[i] = sh

    members: dict[int, list[int]] = {}
    for i in range(len(texts)):
        members.setdefault(find(i), []).append(i)
    return [DuplicateGroup(m) for root, m in sorted(members.items()) if len(m) > 1]
