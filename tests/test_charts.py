"""Charts checked by content on the Agg backend, and text that fonts cannot draw."""

from __future__ import annotations

import warnings

import pytest

from sentiment.charts import CHARTS, drawable, reach_chart, save_charts, shares_chart, themes_chart, timeline_chart

DOC = {
    "title": "The new harbour bridge", "n_posts": 40,
    "window": {"start": "2025-03-01T00:00:00Z", "end": "2025-03-03T00:00:00Z"},
    "groups": {
        "for_it": {"share": 0.75, "ci": [0.6, 0.86], "n": 30,
                   "themes": [{"phrase": "commute", "weight": 0.2, "n_posts": 12},
                              {"phrase": "міст 🇺🇦 де", "weight": 0.1, "n_posts": 5}]},
        "against_it": {"share": 0.25, "ci": [0.14, 0.4], "n": 10,
                       "themes": [{"phrase": "coût élevé", "weight": 0.3, "n_posts": 6}]},
    },
    "timeline": {"unit": "day", "buckets": [
        {"start": "2025-03-01T00:00:00Z", "n": 25, "counts": {"for_it": 20, "against_it": 5}},
        {"start": "2025-03-02T00:00:00Z", "n": 15, "counts": {"for_it": 10, "against_it": 5}}]},
    "engagement_share": {"for_it": {"posts": 0.75, "engagement": 0.4, "impressions": None},
                         "against_it": {"posts": 0.25, "engagement": 0.6, "impressions": None}},
    "sentiment": {"for_it": {"n": 4, "mean": 0.3, "bins": [-1, 0, 1], "counts": [1, 3]},
                  "against_it": {"n": 0, "mean": None, "bins": [-1, 0, 1], "counts": [0, 0]}},
}


def test_shares_chart_bars_intervals_counts_colors_and_title(tiny_topic):
    ax = shares_chart(DOC, tiny_topic).axes[0]
    bars = {t.get_text(): p.get_width() for t, p in zip(ax.get_yticklabels(), ax.patches)}
    assert bars == {"Supporters": pytest.approx(75.0), "Opponents": pytest.approx(25.0)}
    assert [p.get_facecolor()[:3] for p in ax.patches] == [
        pytest.approx((0xCC / 255, 0x79 / 255, 0xA7 / 255)), pytest.approx((0, 0x9E / 255, 0x73 / 255))]
    labels = [t.get_text() for t in ax.texts]
    assert "75%  (30 posts)" in labels and "25%  (10 posts)" in labels
    segments = [seg for coll in ax.collections for seg in coll.get_segments()]
    spans = sorted((round(s[0][0], 1), round(s[1][0], 1)) for s in segments if s[0][1] == s[1][1])
    assert spans == [(14.0, 40.0), (60.0, 86.0)]
    title = ax.get_title(loc="left")
    assert "The new harbour bridge" in title and "40 posts" in title and "01 Mar 2025" in title


def test_timeline_stacks_each_group_per_bucket(tiny_topic):
    ax = timeline_chart(DOC, tiny_topic).axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [20, 10, 5, 5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Supporters", "Opponents"]


def test_reach_chart_sets_posts_beside_engagement(tiny_topic):
    ax = reach_chart(DOC, tiny_topic).axes[0]
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths == [25, 40, 60, 75]


def test_themes_chart_has_a_panel_per_group(tiny_topic):
    fig = themes_chart(DOC, tiny_topic)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Supporters", "Opponents"]
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["coût élevé"]


def test_cyrillic_accents_and_emoji_render_without_missing_glyphs(tiny_topic, tmp_path):
    assert drawable("міст 🇺🇦 де") == "міст де"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        paths = save_charts(DOC, tiny_topic, tmp_path)
    assert [p.name for p in paths] == [name for name, _ in CHARTS] and paths[0].name == "proportions.png"


def test_charts_of_an_empty_window_say_so(tiny_topic):
    empty = dict(DOC, n_posts=0, timeline={"unit": "day", "buckets": []}, engagement_share={}, sentiment={},
                 groups={g: {"share": 0.0, "ci": [0.0, 0.0], "n": 0, "themes": []} for g in DOC["groups"]})
    for _, chart in CHARTS:
        fig = chart(empty, tiny_topic)
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith(("No ", "no ")) for t in texts), chart.__name__
