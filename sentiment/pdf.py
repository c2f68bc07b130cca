"""The PDF report: a cover with "What people say", the charts, a page per group, and methods.

Pages are matplotlib figures (A4 portrait) written with its PDF backend, so
the PDF uses the same fonts and colors as the PNG charts; text is wrapped to
the page, and every page carries its number.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from .charts import drawable, reach_chart, sentiment_chart, shares_chart, themes_chart, timeline_chart
from .topic import Topic

__all__ = ["write_pdf"]

A4 = (8.27, 11.69)
_LEFT = 0.08
_WRAP = 92  # characters a line at 10 pt on A4 with these margins


class _Page:
    """A text page that flows lines downwards and starts a new page when full."""

    def __init__(self, pages: list[Figure], heading: str) -> None:
        self.pages = pages
        self._new(heading)

    def _new(self, heading: str) -> None:
        self.fig = Figure(figsize=A4)
        self.pages.append(self.fig)
        self.y = 0.95
        if heading:
            self.fig.text(_LEFT, self.y, drawable(heading), fontsize=17, weight="bold", va="top")
            self.y -= 0.05

    def line(self, text: str, *, size: float = 10, weight: str = "normal", color: str = "#111111",
             indent: float = 0.0, gap: float = 0.0, width: int = _WRAP) -> None:
        wrapped = textwrap.wrap(drawable(text), width=int(width * 10 / size) - int(indent * 100)) or [""]
        for part in wrapped:
            if self.y < 0.07:
                self._new("")
            self.fig.text(_LEFT + indent, self.y, part, fontsize=size, weight=weight, color=color, va="top")
            self.y -= 0.0175 * size / 10
        self.y -= gap

    def space(self, amount: float = 0.012) -> None:
        self.y -= amount


#: Characters of a representative post the PDF prints; a longer post is cut
#: (at a word) and marked; the posts table keeps the whole text.
POST_CHARS = 700


def _shortened(text: str) -> str:
    if len(text) <= POST_CHARS:
        return text
    cut = text[:POST_CHARS]
    if " " in cut[POST_CHARS * 4 // 5:]:  # at a word, if one ends near the limit
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut} … [{len(text) - len(cut):,} more characters]"


def _text_color(color: str) -> str:
    """The group's color for text, darkened when too light to read on white."""
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return color if luminance < 0.45 else "#555555"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _window(doc: dict[str, Any]) -> str:
    return f"{doc['window']['start'].replace('T', ' ')} to {doc['window']['end'].replace('T', ' ')}"


def _cover(pages: list[Figure], doc: dict[str, Any], topic: Topic) -> None:
    page = _Page(pages, "")
    for part in textwrap.wrap(drawable(topic.title), 48):
        page.line(part, size=19, weight="bold")
    page.space()
    page.line(f"{_window(doc)} · {doc['n_posts']:,} posts analysed", size=11, color="#444444", gap=0.015)
    page.line("What people say", size=14, weight="bold", gap=0.005)
    page.line(doc.get("summary", ""), size=11.5, width=88, gap=0.015)
    for g in topic.groups:
        d = doc["groups"][g.id]
        page.line(f"{g.name}: {_pct(d['share'])} (95% interval {_pct(d['ci'][0])}–{_pct(d['ci'][1])})",
                  size=11.5, weight="bold", color=_text_color(g.color))
        page.line(g.description, size=10, indent=0.03, color="#333333", gap=0.004)
    # The headline chart fills the rest of the cover, below room for its three-line title.
    bottom = 0.07
    height = max(0.2, page.y - bottom - 0.11)
    ax = page.fig.add_axes((0.2, bottom, 0.72, height))
    shares_chart(doc, topic, ax=ax)


def _chart_pages(pages: list[Figure], doc: dict[str, Any], topic: Topic) -> None:
    for first, second in ((timeline_chart, reach_chart), (sentiment_chart, themes_chart)):
        # The constrained layout keeps clear of the page-number line at the bottom.
        fig = Figure(figsize=A4, layout=ConstrainedLayoutEngine(rect=(0, 0.04, 1, 0.96)))
        top, bottom = fig.subfigures(2, 1)
        first(doc, topic, top.add_subplot())
        if second is themes_chart:
            themes_chart(doc, topic, figure=bottom)
        else:
            second(doc, topic, bottom.add_subplot())
        pages.append(fig)


def _group_pages(pages: list[Figure], doc: dict[str, Any], topic: Topic, posts: dict[str, Any]) -> None:
    for g in topic.groups:
        d = doc["groups"][g.id]
        page = _Page(pages, g.name)
        page.line(f"{_pct(d['share'])} of posts (95% interval {_pct(d['ci'][0])}–{_pct(d['ci'][1])}); "
                  f"{d['n']:,} posts labeled so. {g.description}", size=10.5, gap=0.012)
        page.line("Themes", size=12.5, weight="bold", color=_text_color(g.color))
        themes = ", ".join(f"{t['phrase']} ({t['n_posts']})" for t in d.get("themes", [])) or "none found"
        page.line(themes, size=10.5, gap=0.012)
        if d.get("subthemes"):
            page.line("Sub-themes", size=12.5, weight="bold", color=_text_color(g.color))
            page.line(", ".join(f"{s['label']} ({s['size']} posts)" for s in d["subthemes"]), size=10.5, gap=0.012)
        page.line("Representative posts", size=12.5, weight="bold", color=_text_color(g.color), gap=0.004)
        for pid in d.get("examples", []):
            row = posts.get(pid)
            if row is None:
                continue
            when = row.created_at.strftime("%Y-%m-%d %H:%M UTC") if row.created_at else "time unknown"
            reach = f" · engagement {row.engagement:,}" if row.engagement is not None else ""
            page.line(_shortened(" ".join(row.text.split())), size=10.5, indent=0.02)
            page.line(f"@{row.author or '?'} · {when}{reach} · post {pid}", size=9, color="#555555", indent=0.02,
                      gap=0.01)


def _methods(pages: list[Figure], doc: dict[str, Any], topic: Topic, methods: list[str],
             provenance: list[str]) -> None:
    page = _Page(pages, "Methods and data")
    page.line("Query", size=12.5, weight="bold")
    page.line(topic.query, size=9.5, gap=0.01)
    page.line("Posts", size=12.5, weight="bold")
    copies = doc.get("duplicates", {})
    page.line(f"Window {_window(doc)}. {doc['n_posts']:,} posts analysed; {doc.get('reposts_excluded', 0):,} reposts "
              f"left out; {copies.get('posts_in_copies', 0):,} posts are copies or near-copies in "
              f"{len(copies.get('groups', []))} groups (counted "
              f"{'once per group' if doc.get('copies_counted') == 'once' else 'every time'}).", size=10.5, gap=0.01)
    page.line("Classification and shares", size=12.5, weight="bold")
    for line in methods:
        page.line(line, size=10.5)
    page.space()
    if provenance:
        page.line("Provenance", size=12.5, weight="bold")
        for line in provenance:
            page.line(line, size=10.5)


def write_pdf(path: str | Path, doc: dict[str, Any], topic: Topic, posts: dict[str, Any], *,
              methods: list[str], provenance: list[str], now: datetime, version: str) -> int:
    """Write the report PDF; returns its number of pages."""
    pages: list[Figure] = []
    _cover(pages, doc, topic)
    _chart_pages(pages, doc, topic)
    _group_pages(pages, doc, topic, posts)
    _methods(pages, doc, topic, methods, provenance)
    metadata = {"Title": f"{topic.title}: what people say", "Subject": topic.name,
                "Creator": f"sentiment {version}", "CreationDate": now}
    with PdfPages(path, metadata=metadata) as pdf:
        for number, fig in enumerate(pages, start=1):
            fig.text(0.5, 0.02, drawable(f"{topic.title} · page {number} of {len(pages)}"), ha="center",
                     fontsize=8, color="#666666")
            pdf.savefig(fig)
    return len(pages)
