"""Charts: each a function that returns a matplotlib Figure; :func:`save_charts` writes them.

Every chart reads a report's summary (the dict written as ``summary.json``)
and the topic, whose group names and colors it uses. Titles say the topic,
the window and the number of posts. Text is sized for a phone screen and for
print. Characters no installed font can draw (emoji, mostly) are dropped from
chart text rather than drawn as empty boxes.

>>> from sentiment.topic import load_topic
>>> topic = load_topic()
>>> doc = {"title": "T", "n_posts": 0, "window": {"start": "2026-01-05T00:00:00Z", "end": "2026-01-06T00:00:00Z"},
...        "groups": {g: {"share": 0.0, "ci": [0.0, 0.0], "n": 0} for g in topic.group_ids}}
>>> shares_chart(doc, topic).axes[0].get_xlabel()
'share of posts (%), corrected, with 95% interval'
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .topic import Topic

__all__ = ["shares_chart", "timeline_chart", "reach_chart", "sentiment_chart", "themes_chart", "save_charts",
           "drawable", "CHARTS"]

_TITLE, _LABEL, _TICK = 13, 12, 11


@lru_cache(maxsize=1)
def _charmap() -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str) -> str:
    """``text`` without the characters the chart font cannot draw (emoji, mostly).

    >>> drawable("Слава Україні 🇺🇦!")
    'Слава Україні !'
    """
    covered = _charmap()
    kept = "".join(ch for ch in text if ord(ch) in covered or ch in "\n\t")
    return re.sub(r"[ \t]{2,}", " ", kept)


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _title(ax: Axes, doc: dict[str, Any], what: str) -> None:
    fmt = "%d %b %Y %H:%M"
    window = f"{_when(doc['window']['start']).strftime(fmt)} – {_when(doc['window']['end']).strftime(fmt)} UTC"
    ax.set_title(drawable(f"{what}\n{doc.get('title', '')}\n{window} · {doc['n_posts']:,} posts"),
                 fontsize=_TITLE, loc="left")


def _axes(ax: Axes | None, size: tuple[float, float] = (9, 5)) -> Axes:
    if ax is not None:
        return ax
    return Figure(figsize=size, layout="constrained").add_subplot()


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=16, color="#444444", transform=ax.transAxes)


def shares_chart(doc: dict[str, Any], topic: Topic, ax: Axes | None = None) -> Figure:
    """Each group's share (corrected) as a bar, its 95% interval as an error bar, its count labeled."""
    ax = _axes(ax)
    groups = list(topic.groups)[::-1]
    data = [doc["groups"][g.id] for g in groups]
    shares = [d["share"] * 100 for d in data]
    err = [[max(0.0, s - d["ci"][0] * 100) for s, d in zip(shares, data)],
           [max(0.0, d["ci"][1] * 100 - s) for s, d in zip(shares, data)]]
    ax.barh([drawable(g.name) for g in groups], shares, color=[g.color for g in groups], xerr=err, capsize=6,
            error_kw={"elinewidth": 1.5, "ecolor": "#222222"})
    for y, d in enumerate(data):
        ax.text(d["ci"][1] * 100 + 1.5, y, f"{d['share']:.0%}  ({d['n']:,} posts)", va="center", fontsize=_LABEL)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of posts (%), corrected, with 95% interval", fontsize=_LABEL)
    ax.tick_params(labelsize=_LABEL)
    ax.spines[["top", "right"]].set_visible(False)
    _title(ax, doc, "Who says what")
    if doc["n_posts"] == 0:
        _empty(ax, "No posts in this window")
    return ax.figure  # type: ignore[return-value]


def timeline_chart(doc: dict[str, Any], topic: Topic, ax: Axes | None = None) -> Figure:
    """Posts per day (or hour) stacked by group."""
    ax = _axes(ax)
    buckets = doc.get("timeline", {}).get("buckets", [])
    unit = doc.get("timeline", {}).get("unit", "day")
    x = [_when(b["start"]) for b in buckets]
    bottom = [0] * len(buckets)
    width = (1 / 24 if unit == "hour" else 1) * 0.85
    for g in topic.groups:
        counts = [b["counts"][g.id] for b in buckets]
        ax.bar(x, counts, bottom=bottom, width=width, color=g.color, label=drawable(g.name), align="edge")
        bottom = [a + b for a, b in zip(bottom, counts)]
    ax.set_ylabel(f"posts per {unit}", fontsize=_LABEL)
    ax.tick_params(labelsize=_TICK)
    ax.spines[["top", "right"]].set_visible(False)
    if buckets:
        ax.legend(fontsize=_TICK, frameon=False)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    _title(ax, doc, "The conversation over time")
    if not any(bottom):
        _empty(ax, "No posts in this window")
    return ax.figure  # type: ignore[return-value]


def reach_chart(doc: dict[str, Any], topic: Topic, ax: Axes | None = None) -> Figure:
    """Each group's share of posts next to its share of engagement (likes, reposts, replies, quotes)."""
    ax = _axes(ax)
    reach = doc.get("engagement_share", {})
    groups = list(topic.groups)[::-1]
    ys = range(len(groups))
    posts = [reach.get(g.id, {}).get("posts", 0) * 100 for g in groups]
    eng = [(reach.get(g.id, {}).get("engagement") or 0) * 100 for g in groups]
    ax.barh([y + 0.2 for y in ys], posts, height=0.38, color="#CCCCCC", label="share of posts")
    ax.barh([y - 0.2 for y in ys], eng, height=0.38, color=[g.color for g in groups], label="share of engagement")
    for y, p, e in zip(ys, posts, eng):
        ax.text(p + 1, y + 0.2, f"{p:.0f}%", va="center", fontsize=_TICK)
        ax.text(e + 1, y - 0.2, f"{e:.0f}%", va="center", fontsize=_TICK)
    ax.set_yticks(list(ys), [drawable(g.name) for g in groups], fontsize=_LABEL)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%", fontsize=_LABEL)
    ax.legend(fontsize=_TICK, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    _title(ax, doc, "Volume and reach")
    if all(reach.get(g.id, {}).get("engagement") is None for g in groups):
        _empty(ax, "No engagement metrics in these posts")
    return ax.figure  # type: ignore[return-value]


def sentiment_chart(doc: dict[str, Any], topic: Topic, ax: Axes | None = None) -> Figure:
    """How positive or negative each group's wording is (VADER compound, English posts)."""
    ax = _axes(ax)
    data = doc.get("sentiment", {})
    for g in topic.groups:
        d = data.get(g.id)
        if not d or not d["n"]:
            continue
        fractions = [c / d["n"] for c in d["counts"]]
        centres = [(a + b) / 2 for a, b in zip(d["bins"][:-1], d["bins"][1:])]
        ax.plot(centres, fractions, marker="o", color=g.color, linewidth=2.5,
                label=drawable(f"{g.name} (n={d['n']:,}, mean {d['mean']:+.2f})"))
    ax.axvline(0, color="#888888", linewidth=1)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("VADER compound sentiment (negative ← 0 → positive), English posts", fontsize=_LABEL)
    ax.set_ylabel("share of the group's posts", fontsize=_LABEL)
    ax.tick_params(labelsize=_TICK)
    ax.spines[["top", "right"]].set_visible(False)
    if any(d.get("n") for d in data.values()):
        ax.legend(fontsize=_TICK, frameon=False)
    else:
        _empty(ax, "No English posts to score")
    _title(ax, doc, "Tone of each group (stance is not tone)")
    return ax.figure  # type: ignore[return-value]


def themes_chart(doc: dict[str, Any], topic: Topic, top: int = 8, figure: Any = None) -> Figure:
    """Each group's leading themes, as bars of how many posts use them (one panel a group).

    ``figure`` may be a figure or subfigure to draw into.
    """
    fig = figure if figure is not None else Figure(figsize=(4.2 * len(topic.groups), 5.5), layout="constrained")
    axes = fig.subplots(1, len(topic.groups), squeeze=False)[0]
    for ax, g in zip(axes, topic.groups):
        themes = doc["groups"][g.id].get("themes", [])[:top][::-1]
        ax.barh([drawable(t["phrase"]) for t in themes], [t["n_posts"] for t in themes], color=g.color)
        ax.set_title(drawable(g.name), fontsize=_LABEL, loc="left", color=g.color, weight="bold")
        ax.set_xlabel("posts", fontsize=_TICK)
        ax.tick_params(labelsize=_TICK)
        ax.spines[["top", "right"]].set_visible(False)
        if not themes:
            _empty(ax, "no themes")
    fig.suptitle(drawable(f"What each group talks about\n{doc.get('title', '')} · {doc['n_posts']:,} posts"),
                 fontsize=_TITLE, x=0.01, ha="left")
    return fig


#: The charts a report holds, in order (file name, function); proportions.png first.
CHARTS = [
    ("proportions.png", shares_chart),
    ("timeline.png", timeline_chart),
    ("reach.png", reach_chart),
    ("sentiment.png", sentiment_chart),
    ("themes.png", themes_chart),
]


def save_charts(doc: dict[str, Any], topic: Topic, folder: str | Path, dpi: int = 150) -> list[Path]:
    """Write every chart as a PNG into ``folder``; returns the paths in order."""
    folder = Path(folder)
    paths = []
    for name, chart in CHARTS:
        path = folder / name
        chart(doc, topic).savefig(path, dpi=dpi)
        paths.append(path)
    return paths
