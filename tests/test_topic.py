from __future__ import annotations

from pathlib import Path

import pytest

import sentiment
from sentiment.errors import TopicError
from sentiment.topic import available_topics, load_topic


def test_the_shipped_topic_loads_with_its_files():
    topic = load_topic()
    assert topic.name == "paris_declaration"
    assert topic.group_ids == ["pro_ukraine", "skeptic", "neutral"]
    assert topic.start < topic.end
    for path in (topic.examples, topic.sample, topic.sample_labels, topic.heldout):
        assert path is not None and path.is_file()
    assert len(topic.query) <= 512  # fits X's recent-search limit


def test_a_topic_folder_of_our_own_with_other_groups(tiny_topic_dir):
    topic = load_topic(tiny_topic_dir)
    assert topic.group_ids == ["for_it", "against_it"]
    assert topic.group("against_it").color == "#CC79A7"


def test_topics_under_data_topics_of_the_working_folder_are_found(tiny_topic_dir, monkeypatch):
    monkeypatch.chdir(tiny_topic_dir.parent.parent)
    (tiny_topic_dir.parent.parent / "data").mkdir()
    tiny_topic_dir.parent.rename(tiny_topic_dir.parent.parent / "data" / "topics")
    assert "harbour_bridge" in available_topics()
    assert load_topic("harbour_bridge").title == "The new harbour bridge"


def test_an_unknown_topic_lists_the_known_ones():
    with pytest.raises(TopicError, match="known topics: .*paris_declaration"):
        load_topic("no_such_event")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace('color = "#009E73"', 'color = "green"'), "color"),
        (lambda s: s.replace('id = "against_it"', 'id = "for_it"'), "distinct"),
        (lambda s: s.replace('end = "2025-03-08T00:00:00Z"', 'end = "2025-02-01T00:00:00Z"'), "after"),
        (lambda s: s.replace('start = "2025-03-01T00:00:00Z"', 'start = "2025-03-01T00:00:00"'), "timezone"),
        (lambda s: s.replace("query =", "querry ="), "'query' is missing"),
        (lambda s: s + "\n[[[broken", "invalid TOML"),
    ],
)
def test_bad_topic_files_name_the_file_and_problem(tiny_topic_dir: Path, edit, message):
    toml = tiny_topic_dir / "topic.toml"
    toml.write_text(edit(toml.read_text()))
    with pytest.raises(TopicError, match=message):
        load_topic(tiny_topic_dir)


def test_nothing_in_the_package_hard_codes_the_shipped_topic():
    source = Path(sentiment.__file__).parent
    for path in source.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("pro_ukraine", "skeptic", "Ukraine", "Paris"):
            assert word not in text, (path.name, word)
