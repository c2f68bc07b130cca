"""The notebook API, and the example notebook executed top to bottom."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

import sentiment
from sentiment.errors import SentimentError

from conftest import TINY_EXAMPLES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_analyze_texts_gives_frames_themes_summary_and_charts(tiny_topic):
    texts = ["build the bridge, best idea in years", "scrap this toll bridge, what a waste", "yes to the bridge"]
    result = sentiment.analyze(texts, topic=tiny_topic)
    posts = result.posts
    assert list(posts["id"]) == ["1", "2", "3"] and list(posts["label"]) == ["for_it", "against_it", "for_it"]
    assert posts["p_for_it"].dtype.kind == "f"
    shares = result.shares
    assert list(shares.index) == ["for_it", "against_it"] and shares["share"].sum() == pytest.approx(1.0)
    assert set(result.themes) == {"for_it", "against_it"}
    assert "Supporters" in result.summary
    assert result.plot.shares().axes[0].get_title(loc="left").startswith("Who says what")
    html = result._repr_html_()
    assert "<table>" in html and "data:image/png;base64," in html and "Supporters" in html


def test_analyze_a_dataframe_a_file_and_a_store(tiny_topic, tmp_path):
    frame = pd.DataFrame({"text": [t for t, _ in TINY_EXAMPLES[:4]], "lang": ["en"] * 4,
                          "created_at": ["2025-03-02T10:00:00Z"] * 4})
    by_frame = sentiment.analyze(frame, topic=tiny_topic)
    assert by_frame.doc["n_posts"] == 4 and by_frame.doc["window"]["start"] == "2025-03-02T10:00:00Z"
    path = tmp_path / "posts.csv"
    frame.assign(id=range(1, 5)).to_csv(path, index=False)
    assert sentiment.analyze(path, topic=tiny_topic).doc["n_posts"] == 4
    with sentiment.Store(tmp_path / "s.sqlite") as store:
        sentiment.import_file(store, path, topic=tiny_topic.name)
        assert sentiment.analyze(store, topic=tiny_topic).doc["n_posts"] == 4
    with pytest.raises(SentimentError, match="text"):
        sentiment.analyze(pd.DataFrame({"body": ["x"]}), topic=tiny_topic)


def test_save_and_to_pdf_write_complete_files(tiny_topic, tmp_path):
    result = sentiment.analyze([t for t, _ in TINY_EXAMPLES], topic=tiny_topic)
    folder = result.save(tmp_path / "out")
    assert {"proportions.png", "report.pdf", "posts.csv", "posts.parquet", "summary.json", "summary.md"} <= {
        p.name for p in folder.iterdir()}
    pdf = result.to_pdf(tmp_path / "only.pdf")
    assert len(PdfReader(pdf).pages) == 6
    with pytest.raises(SentimentError, match="not empty"):
        result.save(folder)


def test_the_library_is_quiet(tiny_topic, capsys):
    sentiment.analyze(["yes to the bridge"], topic=tiny_topic)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.slow
def test_the_example_notebook_runs_top_to_bottom(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(EXAMPLES / "paris_declaration.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the charts were drawn inline


def test_analyze_says_what_it_was_given_when_it_cannot_use_it(tiny_topic, tmp_path):
    with pytest.raises(SentimentError, match="give a list"):
        sentiment.analyze("the bridge is great news", topic=tiny_topic)
    with pytest.raises(SentimentError, match="no such file"):
        sentiment.analyze(tmp_path / "missing.csv", topic=tiny_topic)
    soup = sentiment.StanceClassifier(cv=None).fit(["good soup", "bad soup"], ["yum", "yuck"])
    with pytest.raises(SentimentError, match="for_it"):
        sentiment.analyze(["soup"], topic=tiny_topic, model=soup)


def test_empty_texts_and_rows_without_text_are_skipped_as_import_skips_them(tiny_topic):
    texts = [t for t, _ in TINY_EXAMPLES[:4]]
    assert len(sentiment.analyze(texts + ["", "   "], topic=tiny_topic).posts) == 4
    frame = pd.DataFrame({"text": texts + [None]})
    assert len(sentiment.analyze(frame, topic=tiny_topic).posts) == 4
