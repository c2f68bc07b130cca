from __future__ import annotations

import csv
import importlib
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from matplotlib.image import imread
from pypdf import PdfReader

from sentiment.classify import Prediction
from sentiment.models import Post
from sentiment.report import write_report

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

    for name in ("timeline.png", "reach.png", "sentiment.png", "themes.png"):
        assert imread(folder / name).shape[1] >= 1000
    table = __import__("pyarrow.parquet", fromlist=["x"]).read_table(folder / "posts.parquet")
    assert table.num_rows == 8 and table.column("id").to_pylist()[0] == "100"
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"

    pdf = PdfReader(folder / "report.pdf")
    assert len(pdf.pages) == 6  # cover, two chart pages, one page a group, methods
    pages = [page.extract_text() for page in pdf.pages]
    text = "\n".join(pages)
    assert "What people say" in pages[0] and summary["summary"][:40] in " ".join(pages[0].split())
    for needle in ("The new harbour bridge", "Supporters", "Opponents", "Methods and data", "75.0%", "page 6 of 6"):
        assert needle in text
    assert pdf.metadata.title == "The new harbour bridge: what people say"


def test_an_empty_window_gives_a_report_that_says_so(tiny_topic, tmp_path):
    folder = write_report(tmp_path, tiny_topic, iter(()), start=START, end=END, now=NOW)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_posts"] == 0
    text = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    assert "were found in this window" in text


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


def test_ukrainian_and_emoji_posts_render_without_missing_glyphs(tiny_topic, tmp_path):
    import warnings

    texts = ["Міст потрібен місту! 🇺🇦🔥 Будуємо", "Żadnego mostu 🤡🤡 — szkoda pieniędzy", "Coût élevé 😡 non merci"]
    posts = [(Post(id=str(i + 1), text=t, created_at=START + timedelta(hours=i), author_username="ü"),
              Prediction(str(i + 1), "for_it" if i == 0 else "against_it", 0.9,
                         {"for_it": 0.9 if i == 0 else 0.1, "against_it": 0.1 if i == 0 else 0.9}))
             for i, t in enumerate(texts)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the test
        folder = write_report(tmp_path, tiny_topic, iter(posts), start=START, end=END, now=NOW)
    text = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    assert "Міст потрібен місту!" in text and "Żadnego mostu" in text


def test_above_the_text_sample_counts_use_every_post_and_texts_a_sample(tiny_topic, monkeypatch):
    report_module = importlib.import_module("sentiment.report")

    full = report_module.build_report(tiny_topic, predictions(60, 40), start=START, end=END, now=NOW)
    monkeypatch.setattr(report_module, "TEXT_SAMPLE", 25)
    sampled = report_module.build_report(tiny_topic, predictions(60, 40), start=START, end=END, now=NOW)
    assert len(sampled.rows) == 25 and sampled.doc["texts_read"] == {"posts": 25, "of": 100}
    assert full.doc["texts_read"] == {"posts": 100, "of": 100}
    # Shares, the timeline, reach, languages and tone count every post, sample or not.
    for key in ("n_posts", "timeline", "engagement_share", "languages", "sentiment"):
        assert sampled.doc[key] == full.doc[key], key
    assert {g: v["n"] for g, v in sampled.doc["groups"].items()} == {"for_it": 60, "against_it": 40}
    assert [g.share for g in sampled.summary.groups.values()] == [g.share for g in full.summary.groups.values()]
    ids = [int(r.id) for r in sampled.rows]
    assert ids == sorted(ids) and len(set(ids)) == 25  # in stream order, no post twice
    assert any("random sample of 25 of the 100 posts" in line for line in sampled.methods)
    assert not any("random sample" in line for line in full.methods)


def test_posts_parquet_types_hold_when_early_rows_have_empty_columns(tmp_path):
    from sentiment.report import _csv_to_parquet, post_columns

    columns = post_columns(["a", "b"])
    path = tmp_path / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(60_000):  # more than one block, the first with no sentiment or metrics
            late = i >= 50_000
            row = {c: "" for c in columns}
            row.update(id=str(i), label="a", confidence="0.9", p_a="0.9", p_b="0.1", is_reply=0, is_repost=0,
                       is_quote=0, text="x" * 300, created_at="2026-01-06T12:00:00Z",
                       sentiment="0.5" if late else "", like_count=3 if late else "")
            writer.writerow([row[c] for c in columns])
    _csv_to_parquet(path, tmp_path / "posts.parquet")
    table = __import__("pyarrow.parquet", fromlist=["x"]).read_table(tmp_path / "posts.parquet")
    assert table.num_rows == 60_000
    assert str(table.schema.field("sentiment").type) == "double" and table.column("sentiment")[59_999].as_py() == 0.5
    assert str(table.schema.field("like_count").type) == "int64" and table.column("id")[0].as_py() == "0"


def test_a_very_long_post_is_cut_short_in_the_pdf_and_kept_whole_in_posts_csv(tiny_topic, tmp_path):
    long_text = "The bridge " + "and the toll again " * 3000  # some 57,000 characters
    posts = [(Post(id=str(i + 1), text=long_text if i == 0 else f"short post {i}", created_at=START,
                   like_count=1000 if i == 0 else 0),
              Prediction(str(i + 1), "for_it", 0.9, {"for_it": 0.9, "against_it": 0.1})) for i in range(3)]
    folder = write_report(tmp_path, tiny_topic, iter(posts), start=START, end=END, now=NOW)
    reader = PdfReader(folder / "report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "more characters]" in text and len(reader.pages) < 8
    with (folder / "posts.csv").open(encoding="utf-8", newline="") as handle:
        assert long_text in [row["text"] for row in csv.DictReader(handle)]
