from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from sentiment.errors import StoreError
from sentiment.models import Post
from sentiment.store import MIGRATIONS, SCHEMA_VERSION, Store

T0 = datetime(2026, 1, 6, 12, 0, tzinfo=timezone.utc)


def make_post(n: int, **kw) -> Post:
    fields = dict(id=str(1000 + n), text=f"post number {n}", created_at=T0 + timedelta(hours=n), lang="en",
                  like_count=n)
    fields.update(kw)
    return Post(**fields)


def test_upsert_stores_each_id_once_and_counts_new_updated_unchanged(store):
    first = store.upsert([make_post(1), make_post(2)], topic="t")
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    again = store.upsert([make_post(1), replace(make_post(2), like_count=99)], topic="t")
    assert (again.new, again.updated, again.unchanged) == (0, 1, 1)
    assert store.count() == 2
    assert {p.id: p.like_count for p in store.posts()} == {"1001": 1, "1002": 99}


def test_a_post_given_twice_in_one_upsert_is_stored_once_with_its_last_content(store):
    posts = [make_post(n) for n in range(1200)]  # more than one chunk of the bulk write
    posts += [make_post(5), replace(make_post(7), like_count=70), replace(make_post(1199), text="edited")]
    counts = store.upsert(posts, topic="t")
    # 1199 is given twice in the last batch of 500: one new post, as given last.
    assert (counts.new, counts.updated, counts.unchanged) == (1200, 1, 1)
    assert store.count() == 1200 and store.count("t") == 1200
    stored = {p.id: p for p in store.posts()}
    assert stored["1007"].like_count == 70 and stored["2199"].text == "edited" and stored["1005"].like_count == 5


def test_posts_round_trip_every_field(store):
    post = make_post(3, author_id="77", author_username="ann", author_name="Ann", author_followers=10,
                     conversation_id="1003", is_reply=True, is_quote=True, repost_count=2, reply_count=0,
                     quote_count=1, impression_count=500, raw='{"post": {}}')
    store.upsert([post])
    (back,) = store.posts()
    assert back == post


def test_posts_without_raw_leave_only_the_source_json_out(store):
    store.upsert([make_post(1, raw='{"post": {"id": "1001"}}', author_username="ann")])
    (with_raw,), (without,) = list(store.posts()), list(store.posts(raw=False))
    assert with_raw.raw == '{"post": {"id": "1001"}}' and without.raw is None
    assert without == with_raw  # raw is left out of comparisons; every other field is equal


def test_window_is_start_inclusive_end_exclusive_and_by_topic(store):
    store.upsert([make_post(n) for n in range(5)], topic="a")
    store.upsert([make_post(9)], topic="b")
    since, until = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    assert [p.id for p in store.posts("a", since, until)] == ["1001", "1002"]
    assert store.count("a") == 5 and store.count("b") == 1
    assert store.topics() == {"a": 5, "b": 1}


def test_a_failed_transaction_leaves_the_store_unchanged(store):
    store.upsert([make_post(1)])
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.upsert([make_post(2), replace(make_post(1), text="changed")])
            raise RuntimeError("crash mid-import")
    assert [(p.id, p.text) for p in store.posts()] == [("1001", "post number 1")]


def test_the_file_is_in_wal_mode_and_survives_reopening(store_path):
    with Store(store_path) as db:
        db.upsert([make_post(1)])
    with Store(store_path) as db:
        assert db.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.count() == 1


def test_an_old_schema_file_is_migrated_keeping_its_posts(store_path):
    # Build a version-1 file by hand, as the first release wrote it.
    store_path.parent.mkdir(parents=True)
    db = sqlite3.connect(store_path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO posts (id, created_ms, text, content_hash, first_seen, last_updated) "
        "VALUES (7, 1767700800000, 'from v1', 'h', 'x', 'x')"
    )
    db.commit()
    db.close()
    with Store(store_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (post,) = store.posts()
        assert (post.id, post.text) == ("7", "from v1")
        store.upsert([make_post(1)])  # the new columns work
        assert store.db.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 0


def test_a_file_from_a_newer_version_is_refused_not_damaged(store_path):
    store_path.parent.mkdir(parents=True)
    db = sqlite3.connect(store_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        Store(store_path)
    assert sqlite3.connect(store_path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5


def test_a_file_that_is_not_sqlite_gives_a_store_error(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("just some text, not a database" * 100)
    with pytest.raises(StoreError, match="notes.sqlite"):
        Store(path)


def test_a_thinner_copy_keeps_what_the_stored_post_has_and_changes_nothing(store):
    full = make_post(1, author_username="ann", author_followers=10, is_reply=True, impression_count=500,
                     raw='{"post": {"entities": {"hashtags": []}}}')
    store.upsert([full])
    thin = Post(id=full.id, text=full.text, raw='{"post": {"id": "1001"}}')  # a CSV of id and text only
    counts = store.upsert([thin])
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 1)
    (back,) = store.posts()
    assert back == full and back.raw == full.raw and store.count(since=full.created_at) == 1


def test_a_thinner_copy_with_news_updates_only_what_it_carries(store):
    full = make_post(1, author_username="ann", is_quote=True, raw='{"post": {"entities": {}}}')
    store.upsert([full])
    counts = store.upsert([Post(id=full.id, text="edited text", like_count=42)])
    assert counts.updated == 1
    (back,) = store.posts()
    assert (back.text, back.like_count, back.author_username, back.is_quote, back.created_at, back.raw) == (
        "edited text", 42, "ann", True, full.created_at, full.raw)


def test_a_post_twice_in_one_file_counts_once_and_reimporting_it_changes_nothing(store):
    posts = [make_post(1, like_count=1), make_post(1, like_count=5)]
    first = store.upsert(posts)
    again = store.upsert(posts)
    assert (first.new, first.updated, first.unchanged) == (1, 0, 0)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert next(store.posts()).like_count == 5
