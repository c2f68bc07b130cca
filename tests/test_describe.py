"""Themes, copies, timeline, reach and the written summary, on small corpora written here."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from sentiment.classify import Prediction
from sentiment.describe import PostRow, describe, summary_paragraph
from sentiment.duplicates import near_duplicate_groups
from sentiment.models import Post
from sentiment.report import write_report
from sentiment.summarize import summarize
from sentiment.themes import group_themes, post_phrases

START = datetime(2025, 3, 1, tzinfo=timezone.utc)
END = datetime(2025, 3, 8, tzinfo=timezone.utc)

# Written for these tests: opponents talk about cost, supporters about commuting.
AGAINST = [
    "The cost is insane, who pays for this bridge?", "Toll plus taxes: the cost lands on us again",
    "Nobody has explained the cost to taxpayers", "Cost overruns already, before a single pillar",
    "the real cost will be triple, mark my words", "Our rates go up to cover the cost of the bridge",
    "What is the total cost? The council will not say", "cost, cost, cost. that's all this is",
    "A bridge we cannot afford; the cost estimate is a fantasy", "Scrap it: the cost is too high",
]
FOR = [
    "My commute drops from an hour to ten minutes", "Finally a faster commute for the whole east side",
    "Shorter commute, more time with my kids", "The ferry queue is the worst part of my commute",
    "Cycling my commute over the bridge, can't wait", "A better commute means more jobs downtown",
    "Commute times will halve according to the study", "Bus commute across the harbour at last",
    "my commute today: 55 minutes of ferry misery", "Good news for every commute in town",
]


def rows_for(texts_by_label: dict[str, list[str]], engagement: dict[str, int] | None = None) -> list[PostRow]:
    rows = []
    for label, texts in texts_by_label.items():
        for i, text in enumerate(texts):
            other = "for_it" if label == "against_it" else "against_it"
            rows.append(PostRow(
                id=f"{label[:3]}{i}", text=text, lang="en", created_at=START + timedelta(hours=7 * len(rows)),
                author=f"user{i}", label=label, probabilities={label: 0.9, other: 0.1},
                engagement=(engagement or {}).get(label, 1), impressions=None,
            ))
    return rows


def test_a_group_that_talks_about_cost_gets_a_cost_theme():
    # every post of both groups also names the harbour: a word all groups use is no theme
    docs = {"against_it": [post_phrases(t + " #harbour", "en") for t in AGAINST],
            "for_it": [post_phrases(t + " #harbour", "en") for t in FOR]}
    themes = group_themes(docs, top=3)
    assert themes["against_it"][0].phrase == "cost"
    assert themes["for_it"][0].phrase == "commute"
    assert all(t.phrase != "#harbour" for t in themes["for_it"] + themes["against_it"])


def test_phrases_drop_links_mentions_and_stop_words_and_keep_hashtags():
    phrases = post_phrases("@mayor Das ist ein teures Projekt! #NeinZurBrücke https://t.co/abc", "de")
    assert "teures projekt" in phrases and "#neinzurbrücke" in phrases
    assert not any("mayor" in p or "http" in p or p in ("das", "ist", "ein") for p in phrases)


def test_planted_near_duplicates_are_grouped_and_short_replies_are_not():
    texts = [
        "Stop the bridge tax now! Sign the petition at the town hall today",
        "stop the bridge tax NOW!!! sign the petition at the town hall today https://t.co/1",
        "Stop the bridge tax now, sign the petition at the town hall today #nobridge",
        "The ferry was late again this morning, forty minutes",
        "lol", "lol", "Something else: a long post about gardening and tomatoes in March",
    ]
    groups = near_duplicate_groups(texts)
    assert [g.members for g in groups] == [[0, 1, 2], [4, 5]]


def test_timeline_counts_add_up_and_sections_are_complete():
    rows = rows_for({"against_it": AGAINST, "for_it": FOR}, engagement={"against_it": 100, "for_it": 5})
    sections = describe(rows, ["for_it", "against_it"], start=START, end=END)
    buckets = sections["timeline"]["buckets"]
    assert sections["timeline"]["unit"] == "day" and len(buckets) == 7
    assert sum(b["n"] for b in buckets) == len(rows)
    assert all(sum(b["counts"].values()) == b["n"] for b in buckets)
    reach = sections["engagement_share"]
    assert reach["against_it"]["posts"] == 0.5 and reach["against_it"]["engagement"] == pytest.approx(1000 / 1050)
    assert reach["for_it"]["impressions"] is None
    assert sections["languages"]["en"]["n"] == 20
    ids = {r.id for r in rows}
    for group in sections["groups"].values():
        assert group["examples"] and set(group["examples"]) <= ids


def test_a_short_window_is_counted_per_hour():
    rows = rows_for({"for_it": FOR[:3]})
    sections = describe(rows, ["for_it", "against_it"], start=START, end=START + timedelta(days=1))
    assert sections["timeline"]["unit"] == "hour" and len(sections["timeline"]["buckets"]) == 24


def _paragraph(rows):
    groups = ["for_it", "against_it"]
    labels = [groups.index(r.label) for r in rows]
    summary = summarize(np.eye(2)[labels], groups)
    sections = describe(rows, groups, start=START, end=END)
    return summary, sections, summary_paragraph(summary, sections, {"for_it": "Supporters", "against_it": "Opponents"},
                                                title="the harbour bridge")


def test_the_summary_names_every_group_with_its_share_and_only_extracted_phrases():
    summary, sections, text = _paragraph(rows_for({"against_it": AGAINST, "for_it": FOR[:6]}))
    sentences = re.split(r"(?<=\.)\s+", text)
    assert 3 <= len(sentences) <= 5
    for gid, name in (("for_it", "Supporters"), ("against_it", "Opponents")):
        assert name in text and f"{summary.groups[gid].share * 100:.0f}%" in text
    themes = {t["phrase"] for g in sections["groups"].values() for t in g["themes"]}
    quoted = re.findall(r"“([^”]+)”", text)
    assert quoted and set(quoted) <= themes
    assert "cost" in quoted


def test_the_summary_is_the_same_for_the_same_input():
    rows = rows_for({"against_it": AGAINST, "for_it": FOR})
    assert _paragraph(rows)[2] == _paragraph(list(rows))[2]
    assert describe(rows, ["for_it", "against_it"], start=START, end=END) == describe(
        list(rows), ["for_it", "against_it"], start=START, end=END)


def _predictions(posts_and_labels):
    for post, label in posts_and_labels:
        other = "for_it" if label == "against_it" else "against_it"
        yield post, Prediction(post.id, label, 0.9, {label: 0.9, other: 0.1})


def test_the_report_carries_the_summary_sections_and_counts_copies_as_asked(tiny_topic, tmp_path):
    posts = [(Post(id=str(i), text=t, created_at=START + timedelta(hours=i)), "against_it")
             for i, t in enumerate(AGAINST)]
    posts += [(Post(id=str(100 + i), text="Build the bridge! Our commute deserves better, sign up today",
                    author_username=f"bot{i}", created_at=START + timedelta(hours=i)), "for_it") for i in range(6)]
    posts.append((Post(id="999", text="RT @someone: cost cost cost", is_repost=True, created_at=START), "against_it"))
    every = write_report(tmp_path / "a", tiny_topic, _predictions(posts), start=START, end=END)
    once = write_report(tmp_path / "b", tiny_topic, _predictions(posts), start=START, end=END, copies="once")
    doc_every = json.loads((every / "summary.json").read_text())
    doc_once = json.loads((once / "summary.json").read_text())
    assert doc_every["reposts_excluded"] == 1 and doc_every["n_posts"] == 16
    assert doc_every["duplicates"]["groups"][0]["size"] == 6 and doc_every["duplicates"]["groups"][0]["authors"] == 6
    assert doc_once["n_posts"] == 11 and doc_once["groups"]["for_it"]["n"] == 1
    for key in ("summary", "timeline", "engagement_share", "duplicates", "languages"):
        assert key in doc_every
    for group in doc_every["groups"].values():
        assert {"themes", "subthemes", "examples"} <= set(group)
    markdown = (every / "summary.md").read_text()
    assert doc_every["summary"] in markdown and "## Opponents" in markdown and "Copies and campaigns" in markdown
