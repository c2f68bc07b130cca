from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment.errors import RecordError
from sentiment.normalize import is_page, normalize_page, normalize_post, page_errors, parse_time

from conftest import api_page

USER = {"id": "2244994945", "username": "eurowire", "name": "Euro Wire", "public_metrics": {"followers_count": 1200}}
POST = {
    "id": "2008562100461010944",
    "text": "BREAKING: 35 countries sign the Paris declaration",
    "created_at": "2026-01-06T15:47:12.000Z",
    "author_id": "2244994945",
    "lang": "en",
    "conversation_id": "2008562100461010944",
    "edit_history_tweet_ids": ["2008562100461010944"],
    "public_metrics": {"retweet_count": 12, "reply_count": 3, "like_count": 40, "quote_count": 1,
                       "impression_count": 5000},
}


def test_page_post_gets_its_author_and_metrics_from_includes():
    (post,) = normalize_page(api_page([POST], [USER]))
    assert post.id == "2008562100461010944"
    assert post.author_username == "eurowire" and post.author_followers == 1200
    assert post.created_at == datetime(2026, 1, 6, 15, 47, 12, tzinfo=timezone.utc)
    assert (post.like_count, post.repost_count, post.reply_count, post.quote_count, post.impression_count) == (
        40, 12, 3, 1, 5000)
    assert json.loads(post.raw)["author"]["username"] == "eurowire"


def test_newer_post_spelling_of_metrics_is_accepted():
    obj = dict(POST, public_metrics={"repost_count": 7, "like_count": 2})
    post = normalize_post(obj, {USER["id"]: USER})
    assert post.repost_count == 7 and post.impression_count is None


def test_reference_types_set_the_flags():
    reply = dict(POST, referenced_tweets=[{"type": "replied_to", "id": "1"}])
    quote = dict(POST, referenced_tweets=[{"type": "quoted", "id": "1"}])
    repost = dict(POST, referenced_tweets=[{"type": "retweeted", "id": "1"}])
    assert normalize_post(reply).is_reply and not normalize_post(reply).is_quote
    assert normalize_post(quote).is_quote
    assert normalize_post(repost).is_repost
    assert not normalize_post(POST).is_reply


def test_long_post_takes_its_full_text_from_note_tweet():
    full = "x" * 600
    post = normalize_post(dict(POST, text=full[:277] + "…", note_tweet={"text": full}))
    assert post.text == full


def test_missing_metrics_are_none_not_zero():
    post = normalize_post({"id": "5", "text": "hello"})
    assert post.like_count is None and post.created_at is None


def test_flat_record_with_username_and_metrics():
    post = normalize_post({"id": 42, "text": "hi", "author_username": "ann", "likes": "3", "is_reply": "true",
                           "created_at": "2026-01-06T10:00:00+01:00"})
    assert (post.id, post.author_username, post.like_count, post.is_reply) == ("42", "ann", 3, True)
    assert post.created_at == datetime(2026, 1, 6, 9, 0, tzinfo=timezone.utc)


def test_twarc_flattened_post_carries_its_author_inline():
    post = normalize_post(dict(POST, author=USER))
    assert post.author_username == "eurowire"


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"id": "abc", "text": "x"}, "digits"),
        ({"id": "1", "text": "   "}, "no text"),
        ({"id": "1"}, "no text"),
        ({"text": "x"}, "id is missing"),
        ({"id": "1", "text": "x", "created_at": "2026-01-06T10:00:00"}, "no timezone"),
        ({"id": "1", "text": "x", "created_at": "yesterday"}, "ISO 8601"),
        ({"id": "1", "text": "x", "like_count": -1}, "like_count"),
        ({"id": "1" * 25, "text": "x"}, "digits"),
        ({"id": "1", "text": "x" * 100_001}, "more than"),
        ("not an object", "JSON object"),
    ],
)
def test_bad_records_raise_record_error_naming_the_problem(obj, message):
    with pytest.raises(RecordError, match=message):
        normalize_post(obj)


def test_parse_time_rejects_naive_and_converts_offsets():
    assert parse_time("2026-01-06T12:00:00+02:00").hour == 10
    with pytest.raises(RecordError, match="no timezone"):
        parse_time("2026-01-06 12:00")


def test_page_without_data_is_fine_and_errors_are_exposed():
    page = {"meta": {"result_count": 0}, "errors": [{"title": "Not Found Error", "detail": "gone"}]}
    assert is_page(page)
    assert normalize_page(page) == []
    assert page_errors(page)[0]["detail"] == "gone"


def test_includes_tweets_are_context_not_results():
    page = api_page([POST], [USER])
    page["includes"]["tweets"] = [dict(POST, id="1", text="the quoted one")]
    assert [p.id for p in normalize_page(page)] == [POST["id"]]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
post_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=25), st.integers(), st.from_regex(r"[0-9]{1,19}", fullmatch=True)),
        "text": st.one_of(st.text(), json_values),
        "created_at": st.one_of(st.text(max_size=30), st.datetimes().map(lambda d: d.isoformat())),
        "lang": json_values,
        "author_id": json_values,
        "author_username": json_values,
        "public_metrics": json_values,
        "referenced_tweets": json_values,
        "note_tweet": json_values,
        "like_count": json_values,
        "is_reply": json_values,
        "author": json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(obj=st.one_of(post_like, json_values), users=st.one_of(st.none(), st.dictionaries(st.text(max_size=5), json_values)))
def test_normalizer_never_fails_with_anything_but_our_error(obj, users):
    try:
        post = normalize_post(obj, users)
    except RecordError:
        return
    assert post.id.isdigit() and post.text.strip()
    post.text.encode("utf-8")  # storable as UTF-8


@settings(max_examples=200)
@given(page=st.dictionaries(st.sampled_from(["data", "includes", "meta", "errors"]), json_values))
def test_page_normalizer_never_fails_with_anything_but_our_error(page):
    try:
        normalize_page(page)
    except RecordError:
        pass
