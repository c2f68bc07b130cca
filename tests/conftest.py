"""Shared fixtures: real SQLite files in temp folders, a tiny topic of our own,
and one model cache per test session so the shipped topic trains once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiment.store import Store
from sentiment.topic import load_topic

TINY_TOPIC_TOML = """
name = "harbour_bridge"
title = "The new harbour bridge"
description = "A city votes on a toll bridge."
query = '"harbour bridge" -is:retweet'
[window]
start = "2025-03-01T00:00:00Z"
end = "2025-03-08T00:00:00Z"
[[groups]]
id = "for_it"
name = "Supporters"
color = "#009E73"
description = "Want the bridge."
[[groups]]
id = "against_it"
name = "Opponents"
color = "#CC79A7"
description = "Do not want it."
[files]
examples = "examples.csv"
"""

# Written for these tests: a toy debate with none of the shipped topic's words.
TINY_EXAMPLES = [
    ("the bridge will save me an hour every day, build it", "for_it"),
    ("finally a real crossing, great for the harbour shops", "for_it"),
    ("yes to the bridge, yes to jobs", "for_it"),
    ("love the design, can't wait to cycle over it", "for_it"),
    ("build the bridge now, the ferry is a joke", "for_it"),
    ("this bridge is good news for the whole city", "for_it"),
    ("a toll bridge nobody asked for, what a waste", "against_it"),
    ("the bridge will wreck the harbour view, vote no", "against_it"),
    ("no to the toll, no to the bridge", "against_it"),
    ("who pays for this concrete monster? we do", "against_it"),
    ("the council wastes money on a bridge again", "against_it"),
    ("keep the ferry, scrap the bridge", "against_it"),
]


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # One cache for the whole session: tests never write to the user's cache,
    # and the shipped topic's model is trained once, not once per test.
    import os

    os.environ["SENTIMENT_CACHE_DIR"] = str(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "posts.sqlite"


@pytest.fixture
def store(store_path: Path):
    with Store(store_path) as db:
        yield db


@pytest.fixture
def tiny_topic_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "topics" / "harbour_bridge"
    folder.mkdir(parents=True)
    (folder / "topic.toml").write_text(TINY_TOPIC_TOML, encoding="utf-8")
    lines = ["text,label"] + [f'"{t}",{label}' for t, label in TINY_EXAMPLES]
    (folder / "examples.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_topic(tiny_topic_dir: Path):
    return load_topic(tiny_topic_dir)


def api_page(posts: list[dict], users: list[dict] | None = None, **meta) -> dict:
    """An X API v2 search response page."""
    page: dict = {"data": posts, "meta": {"result_count": len(posts), **meta}}
    if users:
        page["includes"] = {"users": users}
    return page


def write_jsonl(path: Path, objects: list) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    return path


@pytest.fixture
def fake_x():
    """A fake X API v2 on 127.0.0.1, stopped after the test."""
    from fake_x_api import FakeXApi

    server = FakeXApi().start()
    yield server
    server.stop()


class Sleeps(list):
    """Records the waits the client asks for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_api(fake_x, sleeps):
    """An XApi (real tweepy client) talking HTTP to the fake server, with recorded sleeps."""
    from sentiment.xapi import XApi

    def factory(**kw):
        kw.setdefault("timeout", (2.0, 2.0))
        return XApi(fake_x.token, base_url=fake_x.url, sleep=sleeps, **kw)

    return factory
