"""`sentiment train`, `classify --model` and `evaluate` on files a user would have."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment.classify import StanceClassifier, load_model, save_model
from sentiment.cli import main
from sentiment.errors import ModelError
from sentiment.evaluate import evaluate

from conftest import write_jsonl

# Written for these tests: a second toy debate with its own label names.
SOUP = [
    ("this soup is delicious, more please", "yum"), ("best soup in town, rich and warm", "yum"),
    ("lovely soup, I had two bowls", "yum"), ("great soup, the broth is perfect", "yum"),
    ("tasty soup and friendly staff", "yum"), ("wonderful soup, will come back", "yum"),
    ("the soup was cold and salty", "yuck"), ("awful soup, sent it back", "yuck"),
    ("bland soup, never again", "yuck"), ("the soup tasted of dish water", "yuck"),
    ("terrible soup, way too salty", "yuck"), ("soup was disgusting and cold", "yuck"),
]


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def write_tsv(path, rows, header=("label", "text")):
    lines = ["\t".join(header)] + ["\t".join((label, text) if header[0] == "label" else (text, label))
                                   for text, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_train_any_labels_then_classify_with_the_model(tmp_path):
    examples = write_tsv(tmp_path / "soup.tsv", SOUP + [('"quoted" soup, lovely', "yum")])
    model_path = tmp_path / "soup.model"
    out = run("train", examples, "--output", model_path).output
    assert "trained on 13 examples (yuck, yum)" in out
    posts = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": "delicious warm soup"},
                                                {"id": "2", "text": "cold salty soup, awful"}])
    run("classify", posts, "--model", model_path, "--output", tmp_path / "out.csv")
    with (tmp_path / "out.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [r["label"] for r in table] == ["yum", "yuck"]
    assert {"p_yum", "p_yuck"} <= set(table[0])


def test_a_model_for_other_groups_is_refused_for_a_topic_report(tmp_path, tiny_topic_dir):
    model_path = tmp_path / "soup.model"
    run("train", write_tsv(tmp_path / "soup.tsv", SOUP), "--output", model_path)
    result = run("report", "--model", model_path, "--topic", tiny_topic_dir, "--store", tmp_path / "s.sqlite",
                 code=1)
    assert "yuck" in result.stderr and "for_it" in result.stderr


def test_train_with_a_topic_checks_labels_against_its_groups(tmp_path, tiny_topic_dir):
    result = run("train", write_tsv(tmp_path / "soup.tsv", SOUP), "--output", tmp_path / "m", "--topic",
                 tiny_topic_dir, code=1)
    assert "not one of the topic's groups" in result.stderr and "line 2" in result.stderr


def test_train_topic_builds_its_model(tmp_path, tiny_topic_dir):
    out = run("train", "--topic", tiny_topic_dir, "--output", tmp_path / "bridge.model").output
    assert "trained on 12 examples" in out
    assert set(load_model(tmp_path / "bridge.model").classes_) == {"for_it", "against_it"}


def test_model_files_are_checked(tmp_path):
    (tmp_path / "junk.model").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a sentiment model"):
        load_model(tmp_path / "junk.model")
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "missing.model")
    model = StanceClassifier(cv=None).fit(*zip(*SOUP))
    path = save_model(model, tmp_path / "ok.model")
    assert load_model(path).predict(["awful cold soup"]).tolist() == ["yuck"]


def test_evaluate_arithmetic_on_a_known_confusion_matrix():
    # 10 "a" posts: 8 right, 2 called "b"; 10 "b" posts: 5 right, 5 called "a".
    y = ["a"] * 10 + ["b"] * 10
    pred = [0] * 8 + [1] * 2 + [1] * 5 + [0] * 5
    result = evaluate(y, np.eye(2)[pred], ["a", "b"], langs=["en"] * 10 + ["fr"] * 10)
    assert result.confusion == [[8, 2], [5, 5]]
    assert result.accuracy == pytest.approx(13 / 20)
    assert result.groups["a"].precision == pytest.approx(8 / 13) and result.groups["a"].recall == pytest.approx(0.8)
    f1_a, f1_b = 2 * (8 / 13 * 0.8) / (8 / 13 + 0.8), 2 * (5 / 7 * 0.5) / (5 / 7 + 0.5)
    assert result.macro_f1 == pytest.approx((f1_a + f1_b) / 2)
    assert result.raw_shares == {"a": 0.65, "b": 0.35} and result.raw_share_error == pytest.approx(0.15)
    assert result.languages["en"]["accuracy"] == 0.8 and result.languages["fr"]["accuracy"] == 0.5


def test_evaluate_a_file_prints_every_figure_and_json(tmp_path, tiny_topic_dir):
    held = write_tsv(tmp_path / "held.tsv", [("yes build the bridge", "for_it"), ("no to the bridge toll", "against_it"),
                                             ("love this bridge plan", "for_it"), ("scrap the bridge", "against_it")],
                     header=("text", "label"))
    text = run("evaluate", held, "--topic", tiny_topic_dir).output
    for needle in ("macro-F1", "precision", "confusion", "shares", "corrected", "largest share error"):
        assert needle in text
    data = json.loads(run("evaluate", held, "--topic", tiny_topic_dir, "--json").output)
    assert data["n"] == 4 and set(data["groups"]) == {"for_it", "against_it"}
    assert data["corrected_shares"] is not None and "raw_share_error" in data


def test_evaluate_without_a_file_cross_validates_the_topic(tiny_topic_dir):
    text = run("evaluate", "--topic", tiny_topic_dir).output
    assert "12 posts (5-fold cross-validation" in text


def test_train_accepts_estimator_parameters(tmp_path):
    examples = write_tsv(tmp_path / "soup.tsv", SOUP)
    run("train", examples, "--output", tmp_path / "m", "--param", "C=0.5", "--param", "char_ngram_range=(3,4)",
        "--param", "class_weight=None")
    model = load_model(tmp_path / "m")
    assert (model.C, model.char_ngram_range, model.class_weight) == (0.5, (3, 4), None)
    result = run("train", examples, "--output", tmp_path / "m2", "--param", "gamma=3", code=2)
    assert "NAME one of" in result.output


def test_a_comma_that_is_not_quoted_is_an_error_not_a_new_label(tmp_path):
    path = tmp_path / "examples.csv"
    rows = [f'"{t}",{label}' for t, label in SOUP] + ["I like it, really,yum"]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run("train", path, "--output", tmp_path / "m", code=1)
    assert f"line {len(SOUP) + 2}" in result.stderr and "3 fields but the header has 2" in result.stderr
    assert not (tmp_path / "m").exists()


def test_training_problems_are_one_line_errors(tmp_path):
    one = write_tsv(tmp_path / "one.tsv", [(t, "yum") for t, _ in SOUP])
    result = run("train", one, "--output", tmp_path / "m", code=1)
    assert "at least two labels" in result.stderr and str(one) in result.stderr
    result = run("train", write_tsv(tmp_path / "soup.tsv", SOUP), "--output", tmp_path / "m", "--param", "C=abc",
                 code=1)
    assert "cannot train" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_a_group_with_a_single_example_says_shares_are_not_corrected(tmp_path):
    path = write_tsv(tmp_path / "soup.tsv", SOUP + [("meh, it was soup", "meh")])
    result = run("train", path, "--output", tmp_path / "m")
    assert "trained on 13 examples" in result.stdout
    assert "too few to cross-validate" in result.stderr and "not corrected" in result.stderr


def test_editing_the_topics_groups_makes_the_cached_model_stale(tmp_path, tiny_topic_dir):
    run("train", "--topic", tiny_topic_dir)
    toml = tiny_topic_dir / "topic.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('id = "against_it"', 'id = "opposed"'),
                    encoding="utf-8")
    result = run("train", "--topic", tiny_topic_dir, code=1)  # not the cached model of the old groups
    assert "'against_it' is not one of the topic's groups" in result.stderr


def test_a_group_without_examples_is_a_clear_error(tmp_path, tiny_topic_dir):
    toml = tiny_topic_dir / "topic.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[files]", """[[groups]]
id = "unsure"
name = "Unsure"
color = "#999999"
description = "Cannot say."
[files]"""), encoding="utf-8")
    result = run("report", "--topic", tiny_topic_dir, "--store", tmp_path / "s.sqlite", code=1)
    assert "no examples of the group(s) 'unsure'" in result.stderr and "sentiment label" in result.stderr


def test_evaluate_says_how_many_folds_it_ran(tiny_topic_dir):
    folder = tiny_topic_dir  # 6 examples per group: 5 folds
    assert "(5-fold cross-validation" in run("evaluate", "--topic", folder).output
    examples = folder / "examples.csv"
    kept = examples.read_text(encoding="utf-8").splitlines()
    against = [i for i, line in enumerate(kept) if line.endswith(",against_it")]
    examples.write_text("\n".join(line for i, line in enumerate(kept) if i not in against[3:]) + "\n",
                        encoding="utf-8")
    assert "(3-fold cross-validation" in run("evaluate", "--topic", folder).output


def test_classify_refuses_a_missing_input_a_folder_output_and_a_file_of_only_unusable_posts(tmp_path):
    model_path = tmp_path / "soup.model"
    run("train", write_tsv(tmp_path / "soup.tsv", SOUP), "--output", model_path)
    result = run("classify", tmp_path / "nope.csv", "--model", model_path, "--output", tmp_path / "o.csv", code=1)
    assert "nope.csv: no such file" in result.stderr
    posts = write_jsonl(tmp_path / "in.jsonl", [{"id": "1", "text": "warm soup"}])
    (tmp_path / "outdir").mkdir()
    result = run("classify", posts, "--model", model_path, "--output", tmp_path / "outdir", code=1)
    assert "is a folder" in result.stderr
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "r1", "text": "warm soup"}, {"id": "r2", "text": "cold"}])
    result = run("classify", bad, "--model", model_path, "--output", tmp_path / "o.csv", code=1)
    assert "no post could be classified" in result.stderr and "line 1" in result.stderr
    assert not (tmp_path / "o.csv").exists()
