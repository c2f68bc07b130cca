"""The X client's discipline, against a fake X API over real HTTP."""

from __future__ import annotations

import logging

import pytest

from sentiment.errors import CredentialsError, QueryError, RetriesExhausted, UsageCapReached
from sentiment.xapi import XApi

QUERY = {"query": "declaration -is:retweet", "max_results": 10}


def test_requests_go_to_the_configured_base_url_with_the_token(fake_x, make_api):
    page = make_api().search(QUERY)
    assert page.status == 200 and page.url.startswith(fake_x.url + "/2/tweets/search/recent")
    assert fake_x.requests[0].authorization == f"Bearer {fake_x.token}"


def test_base_url_from_the_environment(fake_x, monkeypatch):
    monkeypatch.setenv("SENTIMENT_X_API_URL", fake_x.url)
    assert XApi(fake_x.token).search(QUERY).status == 200


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_a_burst_of_server_errors_is_retried_with_growing_backoff(fake_x, make_api, sleeps, code):
    fake_x.faults = [{"kind": "status", "code": code}] * 3
    api = make_api(max_retries=5, backoff_initial=1.0)
    assert api.search(QUERY).status == 200
    assert api.requests_sent == 4 and len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # exponential, with jitter on top


def test_retries_are_bounded_and_end_in_a_clear_error(fake_x, make_api, sleeps):
    fake_x.faults = [{"kind": "status", "code": 503}] * 10
    with pytest.raises(RetriesExhausted, match="after 3 attempts"):
        make_api(max_retries=3).search(QUERY)
    assert len(fake_x.requests) == 3


def test_a_dropped_connection_is_retried(fake_x, make_api):
    fake_x.faults = [{"kind": "drop"}, {"kind": "drop"}]
    assert make_api().search(QUERY).status == 200
    assert len(fake_x.requests) == 3


def test_a_response_slower_than_the_read_timeout_is_retried(fake_x, make_api):
    fake_x.faults = [{"kind": "slow", "seconds": 1.5}]
    assert make_api(timeout=(1.0, 0.3)).search(QUERY).status == 200
    assert len(fake_x.requests) == 2


def test_429_waits_until_the_reset_time(fake_x, make_api, sleeps):
    fake_x.faults = [{"kind": "rate_limit", "reset": 30}]
    make_api().search(QUERY)
    assert sleeps == [pytest.approx(31, abs=2)]


def test_429_reset_is_read_on_the_servers_clock_not_ours(fake_x, make_api, sleeps):
    fake_x.clock_offset = 3600.0  # the server's clock runs an hour ahead of ours
    fake_x.faults = [{"kind": "rate_limit", "reset": 20}]
    make_api().search(QUERY)
    assert sleeps == [pytest.approx(21, abs=2)]


@pytest.mark.parametrize("reset", [None, -120])
def test_429_without_a_usable_reset_header_backs_off_instead_of_hammering(fake_x, make_api, sleeps, reset):
    fake_x.faults = [{"kind": "rate_limit", "reset": reset}] * 3
    make_api().search(QUERY)
    assert sleeps == [15.0, 30.0, 60.0]


def test_the_usage_cap_stops_without_retrying(fake_x, make_api, sleeps):
    fake_x.faults = [{"kind": "usage_cap"}]
    with pytest.raises(UsageCapReached, match="Usage cap"):
        make_api().search(QUERY)
    assert len(fake_x.requests) == 1 and sleeps == []


def test_full_archive_requests_are_paced_to_one_a_second(fake_x, sleeps):
    now = [1000.0]
    api = XApi(fake_x.token, base_url=fake_x.url, sleep=sleeps, clock=lambda: now[0])
    for _ in range(3):
        api.search(QUERY, archive=True)
    assert sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    api.search(QUERY)  # recent search is not paced
    assert len(sleeps) == 2


def test_a_missing_token_says_what_to_set(monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    with pytest.raises(CredentialsError, match="X_BEARER_TOKEN"):
        XApi()


def test_the_older_token_variable_is_accepted(fake_x, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", fake_x.token)
    assert XApi(base_url=fake_x.url).search(QUERY).status == 200


def test_a_rejected_token_is_a_credentials_error_without_the_token(fake_x):
    api = XApi("wrong-token-abc123", base_url=fake_x.url)
    with pytest.raises(CredentialsError) as info:
        api.search(QUERY)
    assert "X_BEARER_TOKEN" in str(info.value) and "wrong-token-abc123" not in str(info.value)
    assert "wrong-token" not in repr(api)


def test_a_bad_request_is_a_query_error_with_the_apis_reason(make_api):
    with pytest.raises(QueryError, match="max_results"):
        make_api().search({"query": "x", "max_results": 500})


def test_the_token_never_reaches_the_log_at_debug_level(fake_x, make_api, caplog):
    fake_x.faults = [{"kind": "status", "code": 503}, {"kind": "rate_limit", "reset": None}]
    with caplog.at_level(logging.DEBUG):
        make_api().search(QUERY)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Making API request" in text  # tweepy's debug log was really emitted...
    assert fake_x.token not in text  # ...with the token redacted
    assert "Bearer [REDACTED]" in text


def test_a_server_that_echoes_the_token_back_cannot_leak_it(fake_x, make_api, caplog):
    # A gateway that repeats the request's Authorization header in its error page.
    echo = {"kind": "status", "code": 502, "body": {"detail": f"upstream failed for Bearer {fake_x.token}",
                                                    "title": f"token {fake_x.token}"}}
    fake_x.faults = [echo, echo]
    with caplog.at_level(logging.DEBUG), pytest.raises(RetriesExhausted) as info:
        make_api(max_retries=2).search(QUERY)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "upstream failed" in logged and "upstream failed" in str(info.value)  # the reason is kept...
    assert fake_x.token not in logged and fake_x.token not in str(info.value)  # ...the token is not


def test_a_bad_request_names_what_x_says_was_wrong(fake_x, make_api):
    fake_x.faults = [{"kind": "status", "code": 400, "body": {
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
        "errors": [{"parameters": {"query": ["declaration OR"]},
                    "message": "There were errors processing your request: Unknown operator (at position 13)"}]}}]
    with pytest.raises(QueryError, match="Unknown operator") as info:
        make_api().search(QUERY)
    assert "parameters to your request was invalid" in str(info.value)
