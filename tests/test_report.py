from __future__ import annotations

import csv
import json
from datetime import datetime, timezone

import numpy as np
import pytest
from matplotlib.image import imread
from pypdf import PdfReader

from sentiment.classify import Prediction
from sentiment.models import Post
from sentiment.report import proportions_chart, write_report
from sentiment.summarize import summarize

START, END = datetime(2025, 3, 1, tzinfo=timezone.utc), datetime(2025, 3, 8, tzinfo=timezone.utc)
NOW = datetime(2025, 3, 9, 6, 30, tzinfo=timezone.utc)


def predictions(n_for: int, n_against: int):
    for i in range(n_for + n_against):
        label = "for_it" if i < n_for else "against_it"
        p = 0.8
        probs = {"for_it": p if label == "for_it" else 1 - p, "against_it": p if label == "against_it" else 1 - p}
        post = Post(id=str(100 + i), text=f"post {i}, with a comma\nand a newline", lang="en",
                    created_at=datetime(2025, 3, 2, i % 24, tzinfo=timezone.utc), author_username=f"user{i}",
                    like_count=i)
        yield post, Prediction(post.id, label, p, probs)


def test_the_proportions_chart_shows_each_group_with_share_interval_and_count(tiny_topic):
    summary = summarize(np.eye(2)[[0] * 30 + [1] * 10], tiny_topic.group_ids)
    fig = proportions_chart(summary, tiny_topic, START, END)
    ax = fig.axes[0]
    bars = {t.get_text(): patch.get_width() for t, patch in zip(ax.get_yticklabels(), ax.patches)}
    assert bars == {"Supporters": pytest.approx(75.0), "Opponents": pytest.approx(25.0)}
    assert [patch.get_facecolor()[:3] for patch in ax.patches] == [
        pytest.approx((0xCC / 255, 0x79 / 255, 0xA7 / 255)), pytest.approx((0, 0x9E / 255, 0x73 / 255))]
    labels = [t.get_text() for t in ax.texts]
    assert "75%  (n=30)" in labels and "25%  (n=10)" in labels
    assert "The new harbour bridge" in ax.get_title(loc="left") and "40 posts" in ax.get_title(loc="left")
    # the error bars span the Wilson interval
    segments = [seg for coll in ax.collections for seg in coll.get_segments()]
    spans = sorted((round(s[0][0], 1), round(s[1][0], 1)) for s in segments if s[0][1] == s[1][1])
    expected = sorted((round(g.ci[0] * 100, 1), round(g.ci[1] * 100, 1)) for g in summary.groups.values())
    assert spans == expected


def test_write_report_writes_readable_files(tiny_topic, tmp_path):
    gold = {"100": "for_it", "101": "against_it"}
    folder = write_report(tmp_path / "reports", tiny_topic, predictions(6, 2), start=START, end=END, gold=gold,
                          now=NOW)
    assert folder.name == "2025-03-09T063000Z"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [folder.name]  # no temp folder left

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["topic"] == "harbour_bridge" and summary["n_posts"] == 8
    assert summary["window"] == {"start": "2025-03-01T00:00:00Z", "end": "2025-03-08T00:00:00Z"}
    assert {g: v["n"] for g, v in summary["groups"].items()} == {"for_it": 6, "against_it": 2}
    assert sum(v["share"] for v in summary["groups"].values()) == pytest.approx(1.0)
    for group in summary["groups"].values():
        assert group["ci"][0] <= group["share"] <= group["ci"][1] and 0 <= group["raw_share"] <= 1
    assert summary["shares_method"] == "cc"  # no calibration given
    assert summary["evaluation"]["n_labeled"] == 2 and summary["evaluation"]["accuracy"] == 0.5

    with (folder / "posts.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    assert list(rows[0])[:6] == ["id", "label", "confidence", "p_for_it", "p_against_it", "sentiment"]
    assert {"created_at", "lang", "author_username", "text", "like_count"} <= set(rows[0])
    assert rows[0]["text"] == "post 0, with a comma\nand a newline" and rows[0]["created_at"] == "2025-03-02T00:00:00Z"

    png = imread(folder / "proportions.png")
    assert png.shape[0] >= 600 and png.shape[1] >= 1000
    assert np.std(png[..., :3]) > 0.05  # not blank

    pdf = PdfReader(folder / "report.pdf")
    assert len(pdf.pages) == 3
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for needle in ("The new harbour bridge", "Supporters", "Opponents", "Methods", "75.0%"):
        assert needle in text
    assert pdf.metadata.title == "The new harbour bridge: what people say"


def test_an_empty_window_gives_a_report_that_says_so(tiny_topic, tmp_path):
    folder = write_report(tmp_path, tiny_topic, iter(()), start=START, end=END, now=NOW)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_posts"] == 0
    text = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    assert "No posts were found in this window" in text


def test_a_failure_midway_leaves_no_report_folder(tiny_topic, tmp_path):
    def broken():
        yield from predictions(3, 0)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_report(tmp_path / "reports", tiny_topic, broken(), start=START, end=END, now=NOW)
    assert list((tmp_path / "reports").iterdir()) == []


def test_two_reports_in_the_same_second_do_not_collide(tiny_topic, tmp_path):
    a = write_report(tmp_path, tiny_topic, predictions(1, 1), start=START, end=END, now=NOW)
    b = write_report(tmp_path, tiny_topic, predictions(1, 1), start=START, end=END, now=NOW)
    assert a != b and a.is_dir() and b.is_dir()
