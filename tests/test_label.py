"""Active learning, from Python and from the keyboard (scripted input)."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from sentiment.cli import main
from sentiment.classify import StanceClassifier
from sentiment.label import LabelSession, pick_candidates
from sentiment.models import Post
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
    from sentiment.store import Store

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


def test_a_topic_inside_the_installed_package_is_copied_before_labels_are_added(tmp_path, monkeypatch):
    import sentiment
    from sentiment.label import writable_topic

    monkeypatch.chdir(tmp_path)
    shipped = load_topic("paris_declaration")
    topic = writable_topic(shipped, tmp_path)
    package_dir = Path(sentiment.__file__).resolve().parent
    if package_dir in shipped.folder.parents:  # an installed wheel, as in CI
        assert topic.folder == (tmp_path / "data" / "topics" / "paris_declaration").resolve()
        assert topic.examples.read_bytes() == shipped.examples.read_bytes()
        assert load_topic("paris_declaration").folder == topic.folder  # the copy now wins
    else:  # a source checkout: the shipped examples are the project's own files
        assert topic.folder == shipped.folder
