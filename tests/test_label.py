"""Active learning, from Python and from the keyboard (scripted input)."""

from __future__ import annotations

import csv

from click.testing import CliRunner

from sentiment.cli import main
from sentiment.classify import StanceClassifier, load_examples
from sentiment.label import LabelSession, pick_candidates
from sentiment.models import Post
from sentiment.store import Store
from sentiment.topic import load_topic

from conftest import TINY_EXAMPLES, write_jsonl

NEW_POSTS = [
    "the bridge is fine I guess, maybe, not sure",
    "bridge bridge bridge, whatever the council decides",
    "bridge bridge bridge, whatever the council decides!!",  # a near-duplicate of the one above
    "build it now, best idea in years",
    "honestly can't tell if the toll is worth it",
    "scrap it, waste of money",
    "the ferry or the bridge, both have a point",
]


def rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def stored(tmp_path, tiny_topic_dir):
    store = tmp_path / "s.sqlite"
    data = [{"id": str(i), "text": t, "author_username": "u", "lang": "en"} for i, t in enumerate(NEW_POSTS, 1)]
    data.append({"id": "99", "text": TINY_EXAMPLES[0][0]})  # already an example: never asked again
    result = CliRunner().invoke(main, ["import", str(write_jsonl(tmp_path / "p.jsonl", data)), "--store", str(store),
                                       "--topic", str(tiny_topic_dir)])
    assert result.exit_code == 0, result.output
    return store


def test_candidates_are_the_least_sure_without_near_duplicates_or_known_texts():
    texts, labels = zip(*TINY_EXAMPLES)
    model = StanceClassifier(cv=None).fit(list(texts), list(labels))
    posts = [Post(id=str(i), text=t) for i, t in enumerate(NEW_POSTS + [TINY_EXAMPLES[0][0]])]
    picked = pick_candidates(model, posts, n=10, known_texts=texts)
    picked_texts = [c.post.text for c in picked]
    assert TINY_EXAMPLES[0][0] not in picked_texts
    assert sum("whatever the council decides" in t for t in picked_texts) == 1
    margins = [c.margin for c in picked]
    assert margins == sorted(margins)


def test_the_session_appends_each_label_at_once_and_undo_takes_it_back(tmp_path, tiny_topic_dir):
    before = rows(tiny_topic_dir / "examples.csv")
    with Store(stored(tmp_path, tiny_topic_dir)) as db:
        session = LabelSession(load_topic(tiny_topic_dir), db, n=5)
    assert len(session.candidates) == 5
    first = session.current().post.text
    session.label("for_it")
    assert rows(tiny_topic_dir / "examples.csv")[-1] == {"text": first, "label": "for_it"}
    session.skip()
    third = session.current().post.text
    session.label("against_it")
    assert session.undo().post.text == third
    assert rows(tiny_topic_dir / "examples.csv") == before + [{"text": first, "label": "for_it"}]
    assert session.current().post.text == third  # the undone post is asked again
    model = session.retrain()
    assert len(model.cv_labels_) == len(before) + 1


def test_label_from_the_keyboard_keeps_labels_on_quit_and_retrains(tmp_path, tiny_topic_dir):
    store = stored(tmp_path, tiny_topic_dir)
    before = len(rows(tiny_topic_dir / "examples.csv"))
    # label 1, skip, label 2, undo, label by name, then quit
    keys = "1\ns\n2\nu\nagainst_it\nq\n"
    result = CliRunner().invoke(main, ["label", "--n", "6", "--store", str(store), "--topic", str(tiny_topic_dir)],
                                input=keys)
    assert result.exit_code == 0, result.output
    assert "model's guess" in result.output and "took back the last label" in result.output
    after = rows(tiny_topic_dir / "examples.csv")
    assert len(after) == before + 2
    assert [r["label"] for r in after[-2:]] == ["for_it", "against_it"]
    assert "added 2 labels" in result.output and "retraining" in result.output


def test_end_of_input_quits_cleanly(tmp_path, tiny_topic_dir):
    store = stored(tmp_path, tiny_topic_dir)
    result = CliRunner().invoke(main, ["label", "--store", str(store), "--topic", str(tiny_topic_dir)], input="1\n")
    assert result.exit_code == 0, result.output
    assert rows(tiny_topic_dir / "examples.csv")[-1]["label"] == "for_it"


def test_a_shipped_topic_is_copied_before_labels_are_added(tmp_path, monkeypatch):
    # Shipped: inside an installed wheel (as in CI) or the source tree of an
    # editable install; either way its examples file is never written to.
    from sentiment.label import writable_topic

    monkeypatch.chdir(tmp_path)
    shipped = load_topic("paris_declaration")
    before = shipped.examples.read_bytes()
    topic = writable_topic(shipped, tmp_path)
    assert topic.folder.resolve() == (tmp_path / "data" / "topics" / "paris_declaration").resolve()
    assert topic.examples.read_bytes() == before
    assert load_topic("paris_declaration").folder.resolve() == topic.folder.resolve()  # the copy now wins
    assert shipped.examples.read_bytes() == before

def test_labels_follow_the_examples_files_own_delimiter_header_and_line_endings(tmp_path, tiny_topic_dir):
    # A TSV examples file with a capitalised header and CRLF lines, as a spreadsheet saves it.
    toml = tiny_topic_dir / "topic.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("examples.csv", "examples.tsv"), encoding="utf-8")
    lines = ["Text\tLabel\tLang"] + [f"{t}\t{label}\ten" for t, label in TINY_EXAMPLES]
    (tiny_topic_dir / "examples.tsv").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    store = stored(tmp_path, tiny_topic_dir)
    with Store(store) as db:
        session = LabelSession(load_topic(tiny_topic_dir), db, n=3)
        session.label("for_it")
        session.label("against_it")
        session.retrain()  # reads the file it wrote
    raw = (tiny_topic_dir / "examples.tsv").read_bytes().decode()
    added = raw.split("\r\n")[len(lines):-1]
    assert len(added) == 2 and all(line.count("\t") == 2 for line in added)
    assert [line.split("\t")[1:] for line in added] == [["for_it", "en"], ["against_it", "en"]]
    assert load_examples(tiny_topic_dir / "examples.tsv").labels[-2:] == ["for_it", "against_it"]


def test_a_group_just_added_to_the_topic_can_be_labeled_before_it_has_examples(tmp_path, tiny_topic_dir):
    toml = tiny_topic_dir / "topic.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[files]", """[[groups]]
id = "unsure"
name = "Unsure"
color = "#999999"
description = "Cannot say."
[files]"""), encoding="utf-8")
    store = stored(tmp_path, tiny_topic_dir)
    with Store(store) as db:
        session = LabelSession(load_topic(tiny_topic_dir), db, n=3)  # a model of the two groups with examples
        assert "unsure" in session.groups
        session.label("unsure")
        session.label("unsure")
        model = session.retrain()
    assert rows(tiny_topic_dir / "examples.csv")[-1]["label"] == "unsure"
    assert "unsure" in set(model.classes_)
