""""What people say": each group's themes, sub-themes and telling posts, the
conversation over time, reach, copies, languages, and a written summary.

:func:`describe` takes the classified posts of a report and returns the
sections of ``summary.json``; :func:`summary_paragraph` writes the "What people
say" paragraph from them, using only shares and phrases that the sections
hold, so every claim can be traced to themes and posts.
"""

from __future__ import annotations


from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .duplicates import near_duplicate_groups
from .summarize import Summary
from .themes import group_themes, post_phrases, representatives, subthemes

__all__ = ["PostRow", "describe", "summary_paragraph", "ENGAGEMENT_FIELDS"]

ENGAGEMENT_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count")


@dataclass(frozen=True)
class PostRow:
    """What the summary needs of one classified post."""

    id: str
    text: str
    lang: str | None
    created_at: datetime | None
    author: str | None
    label: str
    probabilities: dict[str, float]
    engagement: int | None
    impressions: int | None
    sentiment: float | None = None


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _timeline(rows: Sequence[PostRow], groups: Sequence[str], start: datetime, end: datetime) -> dict[str, Any]:
    hourly = end - start <= timedelta(days=3)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    first = start.replace(minute=0, second=0, microsecond=0) if hourly else start.replace(
        hour=0, minute=0, second=0, microsecond=0)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.created_at is not None:
            counts[int((row.created_at - first) / step)][row.label] += 1
    buckets = []
    index = 0
    while first + index * step < end:
        c = counts.get(index, Counter())
        n = sum(c.values())
        buckets.append({
            "start": _iso(first + index * step), "n": n, "counts": {g: c[g] for g in groups},
            "shares": {g: (c[g] / n if n else 0.0) for g in groups},
        })
        index += 1
    return {"unit": "hour" if hourly else "day", "buckets": buckets}


def _engagement(rows: Sequence[PostRow], groups: Sequence[str]) -> dict[str, Any]:
    n = len(rows)
    eng = Counter({g: 0 for g in groups})
    imp = Counter({g: 0 for g in groups})
    has_eng = any(r.engagement is not None for r in rows)
    has_imp = bool(rows) and all(r.impressions is not None for r in rows)
    posts = Counter(r.label for r in rows)
    for r in rows:
        eng[r.label] += r.engagement or 0
        imp[r.label] += r.impressions or 0
    total_eng, total_imp = sum(eng.values()), sum(imp.values())
    return {
        g: {
            "posts": posts[g] / n if n else 0.0,
            "engagement": (eng[g] / total_eng if total_eng else 0.0) if has_eng else None,
            "impressions": (imp[g] / total_imp if total_imp else 0.0) if has_imp else None,
        }
        for g in groups
    }


def _languages(rows: Sequence[PostRow], groups: Sequence[str]) -> dict[str, Any]:
    by_lang: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_lang[r.lang or "und"][r.label] += 1
    out = {}
    for lang, c in sorted(by_lang.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        n = sum(c.values())
        out[lang] = {"n": n, "shares": {g: c[g] / n for g in groups}}
    return out


SENTIMENT_BINS = [round(-1 + 0.2 * i, 1) for i in range(11)]


def _sentiment(rows: Sequence[PostRow], groups: Sequence[str]) -> dict[str, Any]:
    """VADER compound scores per group (posts with a score only): histogram and mean."""
    out = {}
    for g in groups:
        scores = [r.sentiment for r in rows if r.label == g and r.sentiment is not None]
        counts = [0] * (len(SENTIMENT_BINS) - 1)
        for x in scores:
            counts[min(int((x + 1) / 0.2), len(counts) - 1)] += 1
        out[g] = {"n": len(scores), "mean": (sum(scores) / len(scores)) if scores else None,
                  "bins": SENTIMENT_BINS, "counts": counts}
    return out


def describe(
    rows: Sequence[PostRow],
    groups: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    n_themes: int = 10,
    n_examples: int = 3,
) -> dict[str, Any]:
    """The descriptive sections of a summary, for posts already classified."""
    phrases = [post_phrases(r.text, r.lang) for r in rows]
    copies = near_duplicate_groups([r.text for r in rows])
    copy_of: list[int | None] = [None] * len(rows)
    for number, group in enumerate(copies):
        for i in group.members:
            copy_of[i] = number
    by_group = {g: [i for i, r in enumerate(rows) if r.label == g] for g in groups}
    docs = {g: [phrases[i] for i in idx] for g, idx in by_group.items()}
    vocabulary = group_themes(docs, top=max(60, n_themes))  # ranked once; the themes are its head
    per_group: dict[str, Any] = {}
    for g, idx in by_group.items():
        chosen = representatives(
            [phrases[i] for i in idx], [rows[i].probabilities.get(g, 0.0) for i in idx],
            [rows[i].engagement for i in idx], k=n_examples, same_copy_group=[copy_of[i] for i in idx],
        )
        per_group[g] = {
            "themes": [{"phrase": t.phrase, "weight": t.weight, "n_posts": t.n_posts}
                       for t in vocabulary[g][:n_themes]],
            "subthemes": [
                {"label": s.label, "size": s.size, "post_ids": [rows[idx[m]].id for m in s.members]}
                for s in subthemes(docs[g], [t.phrase for t in vocabulary[g]])
            ],
            "examples": [rows[idx[i]].id for i in chosen],
        }
    duplicate_groups = []
    for group in copies:
        members = [rows[i] for i in group.members]
        duplicate_groups.append({
            "size": len(members), "authors": len({m.author for m in members if m.author}),
            "label": Counter(m.label for m in members).most_common(1)[0][0],
            "text": members[0].text, "post_ids": [m.id for m in members],
        })
    duplicate_groups.sort(key=lambda d: (-d["size"], d["post_ids"][0]))
    return {
        "groups": per_group,
        "timeline": _timeline(rows, groups, start, end),
        "engagement_share": _engagement(rows, groups),
        "duplicates": {"groups": duplicate_groups, "posts_in_copies": sum(d["size"] for d in duplicate_groups)},
        "languages": _languages(rows, groups),
        "sentiment": _sentiment(rows, groups),
    }


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _quoted(phrases: Sequence[str]) -> str:
    items = [f"“{p}”" for p in phrases]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def summary_paragraph(
    summary: Summary,
    sections: dict[str, Any],
    names: dict[str, str],
    *,
    title: str,
    n_themes: int = 3,
) -> str:
    """The "What people say" paragraph: 3 to 5 sentences, the same for the same input.

    Each group is named with its (corrected) share and interval and its
    leading themes, quoted exactly as they stand in ``sections``; then where
    reach differs most from volume, and copy campaigns if any.
    """
    if summary.n_posts == 0:
        return f"No posts about {title} were found in this window, so there is nothing to summarise."
    order = sorted(summary.groups, key=lambda g: (-summary.groups[g].share, g))
    sentences = []
    for rank, g in enumerate(order):
        gs = summary.groups[g]
        share = f"{_pct(gs.share)} (95% interval {_pct(gs.ci[0])}–{_pct(gs.ci[1])})"
        phrases = [t["phrase"] for t in sections["groups"][g]["themes"][:n_themes]]
        if rank == 0:
            lead = f"Of {summary.n_posts:,} posts about {title}, the {names[g]} group is the largest at {share}"
        elif rank == len(order) - 1 and len(order) > 2:
            lead = f"The {names[g]} group accounts for {share}"
        else:
            lead = f"The {names[g]} group follows with {share}"
        if phrases:
            verb = "; their posts most often turn on " if rank == 0 else ", most often on "
            sentences.append(lead + verb + _quoted(phrases) + ".")
        else:
            sentences.append(lead + ".")
    reach = sections["engagement_share"]
    gaps = [(reach[g]["engagement"] - reach[g]["posts"], g) for g in order if reach[g]["engagement"] is not None]
    if gaps:
        gap, g = max(gaps, key=lambda x: (abs(x[0]), x[1]))
        if abs(gap) >= 0.05:
            direction = "more" if gap > 0 else "less"
            sentences.append(
                f"The {names[g]} group draws {direction} attention than its numbers: {_pct(reach[g]['engagement'])} of likes, "
                f"reposts, replies and quotes against {_pct(reach[g]['posts'])} of posts."
            )
    copies = sections["duplicates"]
    languages = sections["languages"]
    if len(sentences) < 3 and languages:
        lang, figures = next(iter(languages.items()))
        sentences.append(f"The posts are in {len(languages)} language{'s' if len(languages) > 1 else ''}, "
                         f"most often {lang} ({_pct(figures['n'] / summary.n_posts)}).")
    if copies["groups"] and len(sentences) < 5:
        sentences.append(
            f"{copies['posts_in_copies']:,} posts are copies or near-copies in {len(copies['groups'])} groups, "
            f"the largest posted {copies['groups'][0]['size']} times."
        )
    return " ".join(sentences[:5])


