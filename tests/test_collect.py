"""Collection into a real SQLite store from the fake X API, through the real tweepy client."""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timedelta, timezone

import pytest

from sentiment.collect import Prices, build_query, collect, estimate
from sentiment.errors import QueryError, RetriesExhausted

from fake_x_api import make_posts

NOW = datetime.now(timezone.utc).replace(microsecond=0)
START = NOW - timedelta(days=2)
Q = "declaration -is:retweet"


def ids_in(store) -> list[str]:
    return [p.id for p in store.posts()]


def page_tokens(fake_x) -> list[str | None]:
    return [r.params.get("next_token") for r in fake_x.search_requests()]


def test_a_collection_stores_every_post_once_with_the_minimum_requests(fake_x, make_api, store):
    fake_x.posts = make_posts(250, START)
    result = collect(store, make_api(), query=Q, since=START, until=NOW, topic="t")
    assert (result.status, result.posts_read, result.posts_new, result.pages) == ("complete", 250, 250, 3)
    assert result.requests == math.ceil(250 / 100) == len(fake_x.requests)
    assert sorted(ids_in(store)) == sorted(p["id"] for p in fake_x.posts)
    assert store.count("t") == 250
    post = next(store.posts())
    assert post.author_username.startswith("author") and post.like_count is not None
    pages = store.db.execute("SELECT url, raw, tool_version, retrieved_at FROM pages").fetchall()
    assert len(pages) == 3 and pages[0][0].startswith(fake_x.url + "/2/tweets/search/recent")
    assert len(json.loads(pages[0][1])["data"]) == 100
    assert result.cost == pytest.approx(250 * Prices().per_post_read)


def test_the_window_is_start_inclusive_end_exclusive(fake_x, make_api, store):
    fake_x.posts = make_posts(10, START, step=timedelta(hours=1))
    since, until = START + timedelta(hours=2), START + timedelta(hours=5)
    collect(store, make_api(), query=Q, since=since, until=until)
    assert sorted(p.text for p in store.posts()) == [f"post {i} about the declaration" for i in (2, 3, 4)]
    params = fake_x.search_requests()[0].params
    assert params["start_time"] == since.strftime("%Y-%m-%dT%H:%M:%SZ") and "-is:retweet" in params["query"]


def test_a_later_run_asks_only_for_newer_posts(fake_x, make_api, store):
    fake_x.posts = make_posts(120, START)
    first = collect(store, make_api(), query=Q, since=START)
    newest = max(int(p["id"]) for p in fake_x.posts)
    fake_x.posts += make_posts(30, START + timedelta(days=1), prefix="later")
    before = len(fake_x.requests)
    second = collect(store, make_api(), query=Q, since=START)
    assert first.status == second.status == "complete"
    assert fake_x.requests[before].params["since_id"] == str(newest)
    assert (second.posts_read, second.posts_new) == (30, 30)  # nothing paid for twice
    assert store.count() == 150


def test_an_earlier_disjoint_window_does_not_cut_a_later_one(fake_x, make_api, store):
    fake_x.posts = make_posts(48, START, step=timedelta(hours=1))
    collect(store, make_api(), query=Q, since=START, until=START + timedelta(hours=10))
    second = collect(store, make_api(), query=Q, since=START + timedelta(hours=30), until=START + timedelta(hours=40))
    params = fake_x.search_requests()[-1].params
    assert "since_id" not in params and params["start_time"].startswith((START + timedelta(hours=30)).strftime("%Y-%m-%dT%H"))
    assert second.posts_read == 10  # only the later window, nothing in between


def test_the_budget_is_a_hard_cap_and_the_next_run_resumes(fake_x, make_api, store):
    fake_x.posts = make_posts(260, START)
    first = collect(store, make_api(), query=Q, since=START, until=NOW, max_posts=125)
    assert (first.status, first.posts_read) == ("budget", 125)
    assert [r.params["max_results"] for r in fake_x.search_requests()] == ["100", "25"]
    second = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert second.resumed and second.status == "complete" and second.posts_read == 135
    tokens = page_tokens(fake_x)
    assert len(tokens) == len(set(tokens))  # no page requested twice
    assert store.count() == 260


def test_a_budget_below_the_smallest_page_stops_rather_than_overspend(fake_x, make_api, store):
    fake_x.posts = make_posts(260, START)
    result = collect(store, make_api(), query=Q, since=START, until=NOW, max_posts=105)
    assert (result.status, result.posts_read, len(fake_x.requests)) == ("budget", 100, 1)


def test_retries_exhausted_midway_keeps_the_pages_and_the_next_run_resumes(fake_x, make_api, store):
    fake_x.posts = make_posts(300, START)
    fake_x.faults = [{"kind": "ok"}, {"kind": "status", "code": 503}, {"kind": "status", "code": 503}]
    with pytest.raises(RetriesExhausted):
        collect(store, make_api(max_retries=2), query=Q, since=START, until=NOW)
    assert store.count() == 100
    assert store.runs()[-1]["status"] == "interrupted"
    result = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert result.resumed and result.posts_read == 200 and store.count() == 300
    assert page_tokens(fake_x).count(None) == 1  # the first page was never read again


def test_the_usage_cap_stops_cleanly_keeps_posts_and_resumes(fake_x, make_api, store):
    fake_x.posts = make_posts(300, START)
    fake_x.faults = [{"kind": "ok"}, {"kind": "usage_cap"}]
    result = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert result.status == "usage_cap" and "usage cap" in result.message.lower()
    assert store.count() == 100
    again = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert again.resumed and again.status == "complete" and store.count() == 300


def test_errors_inside_a_200_are_recorded_not_dropped(fake_x, make_api, store, caplog):
    fake_x.posts = make_posts(30, START)
    fake_x.faults = [{"kind": "errors"}]
    caplog.set_level(logging.WARNING)
    result = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert len(result.api_errors) == 1 and "Could not find user" in caplog.text
    stored = store.db.execute("SELECT errors FROM pages").fetchone()[0]
    assert "resource-not-found" in stored
    assert store.runs()[-1]["n_api_errors"] == 1


def test_an_empty_page_with_a_next_token_is_followed(fake_x, make_api, store):
    fake_x.posts = make_posts(150, START)
    fake_x.faults = [{"kind": "empty"}]
    result = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert result.status == "complete" and store.count() == 150 and result.pages == 3


def test_a_response_without_data_is_a_complete_empty_run(fake_x, make_api, store):
    result = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert (result.status, result.posts_read, store.count()) == ("complete", 0, 0)


def test_newer_post_spellings_are_read(fake_x, make_api, store):
    fake_x.post_spelling = True
    fake_x.posts = make_posts(40, START)
    collect(store, make_api(), query=Q, since=START, until=NOW)
    est = estimate(make_api(), query=Q, since=START, until=NOW)
    assert store.count() == 40 and est.posts == 40


def test_dry_run_estimate_counts_and_prices_without_reading_posts(fake_x, make_api):
    fake_x.posts = make_posts(340, START)
    est = estimate(make_api(), query=Q, since=START, until=NOW, max_posts=200, prices=Prices(0.01, 0.5))
    assert (est.posts, est.to_read, est.count_requests) == (340, 200, 1)
    assert est.cost_posts == pytest.approx(2.0) and est.cost_counts == pytest.approx(0.5)
    assert all("/counts/" in r.path for r in fake_x.requests)


def test_full_archive_uses_the_all_endpoint(fake_x, make_api, store):
    old = NOW - timedelta(days=400)
    fake_x.posts = make_posts(20, old)
    collect(store, make_api(), query=Q, since=old, until=old + timedelta(days=1), archive=True)
    assert fake_x.requests[0].path == "/2/tweets/search/all" and store.count() == 20


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"since": NOW - timedelta(days=9)}, "--archive"),
        ({"since": NOW - timedelta(hours=5), "until": NOW - timedelta(hours=6)}, "must be after"),
        ({"until": NOW + timedelta(days=1)}, "future"),
        ({"since": datetime(2026, 1, 6)}, "no timezone"),
        ({"max_posts": 5}, "at least 10"),
        ({"since_id": "abc"}, "digits"),
        ({"query": "x" * 600}, "512"),
    ],
)
def test_bad_windows_and_budgets_fail_before_any_request(fake_x, make_api, store, kwargs, message):
    kwargs = {"query": Q, **kwargs}
    with pytest.raises(QueryError, match=message):
        collect(store, make_api(), **kwargs)
    assert fake_x.requests == []


def test_build_query_adds_languages_and_excludes_reposts():
    assert build_query("a b", languages=["en", "UK"]) == "(a b) (lang:en OR lang:uk) -is:retweet"
    assert build_query("a", languages=["fr"], include_reposts=True) == "(a) lang:fr"
    assert build_query("a is:retweet") == "a is:retweet"
    with pytest.raises(QueryError, match="1024"):
        build_query("y" * 1020, archive=True)
    assert len(build_query("y" * 1000, archive=True)) <= 1024
    with pytest.raises(QueryError, match="language code"):
        build_query("a", languages=["english!"])


def test_a_window_start_later_than_the_newest_stored_post_is_still_sent(fake_x, make_api, store):
    fake_x.posts = make_posts(48, START, step=timedelta(hours=1))
    collect(store, make_api(), query=Q, since=START)  # a complete run with no end: later runs go on from it
    later = START + timedelta(hours=60)
    newer = make_posts(20, START + timedelta(hours=50), step=timedelta(hours=1), prefix="newer")
    fake_x.posts += newer
    before = len(fake_x.requests)
    result = collect(store, make_api(), query=Q, since=later)
    params = fake_x.requests[before].params
    assert params["start_time"].startswith(later.strftime("%Y-%m-%dT%H")) and "since_id" not in params
    assert result.posts_read == 10  # only posts from the new start on, not the ten hours between


def test_an_explicit_since_id_older_than_the_window_does_not_widen_it(fake_x, make_api, store):
    fake_x.posts = make_posts(30, START, step=timedelta(hours=1))
    oldest = min(int(p["id"]) for p in fake_x.posts)
    result = collect(store, make_api(), query=Q, since=START + timedelta(hours=20), since_id=str(oldest))
    assert "start_time" in fake_x.search_requests()[0].params and result.posts_read == 10


def test_a_refused_saved_page_closes_the_run_so_the_next_collect_starts_over(fake_x, make_api, store):
    fake_x.posts = make_posts(260, START)
    collect(store, make_api(), query=Q, since=START, until=NOW, max_posts=100)  # stops with a page left
    fake_x.faults = [{"kind": "status", "code": 400, "body": {"title": "Invalid Request",
                                                               "detail": "Invalid pagination token"}}]
    with pytest.raises(QueryError, match="start it over"):
        collect(store, make_api(), query=Q, since=START, until=NOW)
    assert store.runs()[-1]["status"] == "abandoned"
    again = collect(store, make_api(), query=Q, since=START, until=NOW)
    assert not again.resumed and again.status == "complete" and store.count() == 260
    assert fake_x.search_requests()[-3].params.get("next_token") is None  # began at the first page
