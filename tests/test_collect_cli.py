"""`sentiment collect` as a user runs it: a real process, the fake X API, a real store."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sentiment.store import Store

from fake_x_api import make_posts

NOW = datetime.now(timezone.utc).replace(microsecond=0)
START = NOW - timedelta(days=3)
WINDOW = ["--since", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--until", NOW.strftime("%Y-%m-%dT%H:%M:%SZ")]


def sentiment(args: list[str], env: dict[str, str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sentiment.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, **kw)


@pytest.fixture
def env(fake_x) -> dict[str, str]:
    e = dict(os.environ, X_BEARER_TOKEN=fake_x.token, SENTIMENT_X_API_URL=fake_x.url)
    e.pop("TWITTER_BEARER_TOKEN", None)
    return e


def test_collect_twice_end_to_end(fake_x, env, tmp_path):
    fake_x.posts = make_posts(230, START)
    run = sentiment(["collect", *WINDOW, "--store", "s.sqlite"], env, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "collected 230 posts (230 new) in 3 pages, 3 requests" in run.stdout
    again = sentiment(["collect", *WINDOW, "--store", "s.sqlite"], env, tmp_path)
    assert "collected 0 posts" in again.stdout  # the newest_id rule: nothing paid for twice
    assert Store(tmp_path / "s.sqlite").count() == 230


def test_dry_run_prints_the_expected_posts_and_cost_and_reads_none(fake_x, env, tmp_path):
    fake_x.posts = make_posts(420, START)
    env.update(SENTIMENT_PRICE_PER_POST="0.01", SENTIMENT_PRICE_PER_COUNTS_REQUEST="0.5")
    run = sentiment(["collect", *WINDOW, "--dry-run", "--max-posts", "300", "--lang", "en", "--lang", "fr"],
                    env, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "matching posts: 420" in run.stdout and "posts to read: 300 (budget 300)" in run.stdout
    assert "estimated cost: 3.50 USD" in run.stdout
    assert "(lang:en OR lang:fr)" in run.stdout
    assert not any("/search/" in r.path for r in fake_x.requests)


def test_the_usage_cap_exits_with_the_partial_code(fake_x, env, tmp_path):
    fake_x.posts = make_posts(300, START)
    fake_x.faults = [{"kind": "ok"}, {"kind": "usage_cap"}]
    run = sentiment(["collect", *WINDOW, "--store", "s.sqlite"], env, tmp_path)
    assert run.returncode == 3 and "usage cap" in run.stderr.lower()
    assert Store(tmp_path / "s.sqlite").count() == 100


def test_no_token_is_a_one_line_error_saying_what_to_set(env, tmp_path):
    env.pop("X_BEARER_TOKEN")
    run = sentiment(["collect", *WINDOW], env, tmp_path)
    assert run.returncode == 1
    assert run.stderr.strip() == "Error: no X API bearer token: set X_BEARER_TOKEN (or TWITTER_BEARER_TOKEN)"


def test_the_default_window_refuses_an_old_topic_for_recent_search(env, tmp_path):
    run = sentiment(["collect"], env, tmp_path)  # the shipped topic's window is long past
    assert run.returncode == 1 and "--archive" in run.stderr


@pytest.mark.slow
def test_a_collector_killed_mid_run_resumes_without_losing_or_repeating(fake_x, env, tmp_path):
    fake_x.posts = make_posts(2000, START, step=timedelta(minutes=2))
    fake_x.slow_every = 0.1
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "sentiment.cli", "-q", "collect", *WINDOW, "--store", str(store)],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    committed = 0
    while time.time() < deadline and committed < 4:
        time.sleep(0.05)
        if store.exists():
            try:
                with sqlite3.connect(store) as db:
                    committed = db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
            except sqlite3.OperationalError:
                pass  # the schema is being created
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 4 <= committed < 20, "the collector finished before it could be killed"
    with sqlite3.connect(store) as db:
        resume_token = db.execute("SELECT next_token FROM collection_runs").fetchone()[0]
        stored_before = db.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    assert stored_before % 100 == 0  # whole pages only: nothing half-written

    fake_x.slow_every = 0.0
    run = sentiment(["collect", *WINDOW, "--store", str(store)], env, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "resumed" in run.stdout
    with Store(store) as db:
        ids = [p.id for p in db.posts()]
    assert sorted(ids) == sorted(p["id"] for p in fake_x.posts)  # every post, exactly once
    tokens = [r.params.get("next_token") for r in fake_x.search_requests()]
    repeated = {t for t in tokens if tokens.count(t) > 1}
    assert repeated <= {resume_token}  # at most the page in flight at the kill was asked for again


@pytest.mark.slow
def test_the_token_never_reaches_output_logs_store_or_reports(fake_x, env, tmp_path):
    secret = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
    fake_x.token = secret
    env["X_BEARER_TOKEN"] = secret
    fake_x.posts = make_posts(150, START)
    fake_x.faults = [{"kind": "status", "code": 503}, {"kind": "rate_limit", "reset": 1}, {"kind": "errors"}]
    log_path = tmp_path / "collect.log"
    collect_run = sentiment(["-vv", "collect", *WINDOW, "--store", "s.sqlite"], env, tmp_path)
    log_path.write_text(collect_run.stdout + collect_run.stderr)
    report_run = sentiment(["-vv", "report", *WINDOW, "--store", "s.sqlite", "--out", "reports"], env, tmp_path)
    assert collect_run.returncode == 0 and report_run.returncode == 0, collect_run.stderr[-2000:]
    assert "Bearer [REDACTED]" in collect_run.stderr  # tweepy's debug log of headers did run
    for text in (collect_run.stdout, collect_run.stderr, report_run.stdout, report_run.stderr):
        assert secret not in text and "0%2BuSeid" not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
