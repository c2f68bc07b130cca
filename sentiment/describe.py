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

__all__ = ["PostRow", "Tally", "describe", "summary_paragraph", "ENGAGEMENT_FIELDS"]

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


class Tally:
    """Counts of classified posts that add up as they stream past: the timeline,
    reach, languages and tone. Memory does not grow with the number of posts."""

    def __init__(self, groups: Sequence[str], start: datetime, end: datetime) -> None:
        self.groups, self.start, self.end = list(groups), start, end
        self.hourly = end - start <= timedelta(days=3)
        self.step = timedelta(hours=1) if self.hourly else timedelta(days=1)
        self.first = start.replace(minute=0, second=0, microsecond=0) if self.hourly else start.replace(
            hour=0, minute=0, second=0, microsecond=0)
        self.n = 0
        self.buckets: dict[int, Counter[str]] = defaultdict(Counter)
        self.posts: Counter[str] = Counter()
        self.engagement: Counter[str] = Counter()
        self.impressions: Counter[str] = Counter()
        self.has_engagement = False
        self.all_impressions = True
        self.languages: dict[str, Counter[str]] = defaultdict(Counter)
        self.tone_counts = {g: [0] * (len(SENTIMENT_BINS) - 1) for g in self.groups}
        self.tone_sum: Counter[str] = Counter()

    def add(self, row: PostRow) -> None:
        label = row.label
        self.n += 1
        self.posts[label] += 1
        if row.created_at is not None:
            self.buckets[int((row.created_at - self.first) / self.step)][label] += 1
        if row.engagement is not None:
            self.has_engagement = True
            self.engagement[label] += row.engagement
        if row.impressions is None:
            self.all_impressions = False
        else:
            self.impressions[label] += row.impressions
        self.languages[row.lang or "und"][label] += 1
        if row.sentiment is not None and label in self.tone_counts:
            counts = self.tone_counts[label]
            counts[min(int((row.sentiment + 1) / 0.2), len(counts) - 1)] += 1
            self.tone_sum[label] += row.sentiment

    def sections(self) -> dict[str, Any]:
        return {"timeline": self._timeline(), "engagement_share": self._engagement(),
                "languages": self._languages(), "sentiment": self._sentiment()}

    def _timeline(self) -> dict[str, Any]:
        buckets = []
        index = 0
        while self.first + index * self.step < self.end:
            c = self.buckets.get(index, Counter())
            n = sum(c.values())
            buckets.append({
                "start": _iso(self.first + index * self.step), "n": n, "counts": {g: c[g] for g in self.groups},
                "shares": {g: (c[g] / n if n else 0.0) for g in self.groups},
            })
            index += 1
        return {"unit": "hour" if self.hourly else "day", "buckets": buckets}

    def _engagement(self) -> dict[str, Any]:
        n = self.n
        has_imp = n > 0 and self.all_impressions
        total_eng, total_imp = sum(self.engagement.values()), sum(self.impressions.values())
        return {
            g: {
                "posts": self.posts[g] / n if n else 0.0,
                "engagement": (self.engagement[g] / total_eng if total_eng else 0.0) if self.has_engagement else None,
                "impressions": (self.impressions[g] / total_imp if total_imp else 0.0) if has_imp else None,
            }
            for g in self.groups
        }

    def _languages(self) -> dict[str, Any]:
        out = {}
        for lang, c in sorted(self.languages.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
            n = sum(c.values())
            out[lang] = {"n": n, "shares": {g: c[g] / n for g in self.groups}}
        return out

    def _sentiment(self) -> dict[str, Any]:
        """VADER compound scores per group (posts with a score only): histogram and mean."""
        out = {}
        for g in self.groups:
            n = sum(self.tone_counts[g])
            out[g] = {"n": n, "mean": (self.tone_sum[g] / n) if n else None, "bins": SENTIMENT_BINS,
                      "counts": list(self.tone_counts[g])}
        return out


SENTIMENT_BINS = [round(-1 + 0.2 * i, 1) for i in range(11)]


def describe(
    rows: Sequence[PostRow],
    groups: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    n_themes: int = 10,
    n_examples: int = 3,
    tally: Tally | None = None,
) -> dict[str, Any]:
    """The descriptive sections of a summary, for posts already classified.

    Themes, examples and copies come from ``rows``; the timeline, reach,
    languages and tone from ``tally`` when given (counted over every post,
    where ``rows`` may be a sample of them), else from ``rows``.
    """
    if tally is None:
        tally = Tally(groups, start, end)
        for row in rows:
            tally.add(row)
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
        "duplicates": {"groups": duplicate_groups, "posts_in_copies": sum(d["size"] for d in duplicate_groups)},
        **tally.sections(),
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


