"""Scheduled runs: a sequence against the fake X API, locking, kills, files, status."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from filelock import FileLock

from sentiment.cli import main
from sentiment.errors import ConfigError
from sentiment.schedule import EXIT_LOCKED, load_config, prune_reports, scheduled_run, write_example_config
from sentiment.store import Store
from sentiment.xapi import XApi

from fake_x_api import make_posts

NOW = datetime.now(timezone.utc).replace(microsecond=0)

CONFIG = """
topic = "paris_declaration"
store = "data/s.sqlite"
output = "reports"
log_file = "reports/runs.jsonl"
[source]
kind = "x"
max_posts_per_run = 1000
[window]
last = "24h"
[report]
formats = ["png", "json"]
keep_last = 2
"""


def write_config(folder: Path, text: str = CONFIG) -> Path:
    path = folder / "sentiment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def log_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "reports" / "runs.jsonl").read_text().splitlines()]


def test_init_writes_a_config_that_loads(tmp_path):
    path = write_example_config(tmp_path / "sentiment.toml")
    config = load_config(path)
    assert config.source == "x" and config.window_last == timedelta(hours=24) and config.keep_last == 48
    assert config.store == (tmp_path / "data" / "sentiment.sqlite").resolve()
    with pytest.raises(ConfigError, match="exists"):
        write_example_config(path)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "other.toml")])
    assert result.exit_code == 0 and (tmp_path / "other.toml").exists()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace('last = "24h"', 'last = "soon"'), "window.last"),
        (lambda s: s.replace('kind = "x"', 'kind = "ftp"'), "source.kind"),
        (lambda s: s.replace('kind = "x"', 'kind = "file"'), "source.paths"),
        (lambda s: s.replace("keep_last = 2", "keep_last = 0"), "keep_last"),
        (lambda s: s.replace('formats = ["png", "json"]', 'formats = ["docx"]'), "formats"),
        (lambda s: s.replace("max_posts_per_run = 1000", 'max_posts_per_run = "lots"'), "max_posts_per_run"),
        (lambda s: s.replace('last = "24h"', 'start = "2026-01-05T00:00:00"\nend = "2026-01-06T00:00:00Z"'),
         "timezone"),
        (lambda s: s.replace('last = "24h"', "last = 24"), "window.last must be a string"),
        (lambda s: s.replace("keep_last = 2", "keep_lst = 2"), "unknown key 'keep_lst' in \\[report\\]"),
        (lambda s: s.replace("[report]", "[reports]"), "unknown key 'reports' in the top level"),
    ],
)
def test_bad_configs_name_the_file_and_key(tmp_path, edit, message):
    path = write_config(tmp_path, edit(CONFIG))
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


@pytest.mark.slow
def test_a_sequence_of_runs_reads_only_new_posts_and_keeps_the_folder_tidy(tmp_path, fake_x, sleeps):
    config = load_config(write_config(tmp_path, CONFIG.replace("max_posts_per_run = 1000", "max_posts_per_run = 120")))
    api = XApi(fake_x.token, base_url=fake_x.url, sleep=sleeps)
    fake_x.posts = make_posts(150, NOW - timedelta(hours=20), step=timedelta(minutes=5))
    outcomes = [scheduled_run(config, api=api)]  # the budget stops it at 120 of 150
    fake_x.posts += make_posts(40, NOW - timedelta(hours=2), step=timedelta(minutes=1), prefix="second")
    outcomes.append(scheduled_run(config, api=api))  # finishes the 30 left, then reads the 40 new
    fake_x.posts += make_posts(25, NOW - timedelta(minutes=40), step=timedelta(seconds=30), prefix="third")
    outcomes.append(scheduled_run(config, api=api))

    assert [(o.outcome, o.exit_code) for o in outcomes] == [("partial", 3), ("success", 0), ("success", 0)]
    assert [o.posts_new for o in outcomes] == [120, 70, 25]
    searches = fake_x.search_requests()
    assert "since_id" not in searches[0].params and "start_time" in searches[0].params
    assert "since_id" in searches[-1].params  # later runs ask only for newer posts
    with Store(config.store) as store:
        assert store.count() == 215
        read = sum(run["n_posts"] for run in store.runs())
    assert read == 215  # every post paid for exactly once

    reports = sorted(p.name for p in (tmp_path / "reports").iterdir() if p.is_dir() and not p.is_symlink())
    assert len(reports) == 2  # keep_last = 2 pruned the first
    latest = (tmp_path / "reports" / "latest").resolve()
    assert latest == outcomes[-1].report.resolve() and latest.name == reports[-1]
    assert sorted(p.name for p in latest.iterdir()) == sorted(["proportions.png", "timeline.png", "reach.png", "sentiment.png",
                                                               "themes.png", "summary.json", "summary.md"])  # formats
    lines = log_lines(tmp_path)
    assert [line["posts_new"] for line in lines] == [120, 70, 25]
    assert [line["posts_in_window"] for line in lines] == [120, 190, 215]
    assert [line["outcome"] for line in lines] == ["partial", "success", "success"]
    assert all(line["shares"] for line in lines)
    assert abs(sum(lines[-1]["shares"].values()) - 1) < 1e-6


def test_the_usage_cap_is_a_partial_run_with_a_report(tmp_path, fake_x, sleeps):
    config = load_config(write_config(tmp_path))
    fake_x.posts = make_posts(250, NOW - timedelta(hours=10))
    fake_x.faults = [{"kind": "ok"}, {"kind": "usage_cap"}]
    outcome = scheduled_run(config, api=XApi(fake_x.token, base_url=fake_x.url, sleep=sleeps))
    assert (outcome.outcome, outcome.exit_code, outcome.posts_new) == ("partial", 3, 100)
    assert (outcome.report / "summary.json").exists() and "usage_cap" in outcome.message


def test_a_run_finds_the_lock_taken_and_exits_at_once_with_its_code(tmp_path, fake_x):
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    config.store.parent.mkdir(parents=True)
    env = dict(os.environ, X_BEARER_TOKEN=fake_x.token, SENTIMENT_X_API_URL=fake_x.url)
    with FileLock(str(config.store) + ".lock"):
        started = time.time()
        run = subprocess.run([sys.executable, "-m", "sentiment.cli", "run", "--config", str(config_path)],
                             env=env, capture_output=True, text=True, timeout=60)
        assert time.time() - started < 30
    assert run.returncode == EXIT_LOCKED
    assert "another run holds the lock" in run.stderr
    assert fake_x.requests == []
    assert log_lines(tmp_path)[-1]["outcome"] == "locked"


@pytest.mark.slow
def test_two_runs_started_together_one_runs_one_exits(tmp_path, fake_x):
    config_path = write_config(tmp_path)
    fake_x.posts = make_posts(300, NOW - timedelta(hours=10))
    fake_x.slow_every = 0.5
    env = dict(os.environ, X_BEARER_TOKEN=fake_x.token, SENTIMENT_X_API_URL=fake_x.url)
    procs = [subprocess.Popen([sys.executable, "-m", "sentiment.cli", "-q", "run", "--config", str(config_path)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes == [0, EXIT_LOCKED]
    with Store(load_config(config_path).store) as store:
        assert store.count() == 300


@pytest.mark.slow
def test_a_run_killed_mid_collection_is_finished_by_the_next(tmp_path, fake_x):
    config_path = write_config(tmp_path, CONFIG.replace("max_posts_per_run = 1000", "max_posts_per_run = 5000"))
    store_path = load_config(config_path).store
    fake_x.posts = make_posts(1500, NOW - timedelta(hours=20), step=timedelta(seconds=40))
    fake_x.slow_every = 0.1
    env = dict(os.environ, X_BEARER_TOKEN=fake_x.token, SENTIMENT_X_API_URL=fake_x.url)
    proc = subprocess.Popen([sys.executable, "-m", "sentiment.cli", "-q", "run", "--config", str(config_path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    committed, deadline = 0, time.time() + 60
    while committed < 3 and time.time() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(store_path) as db:
                committed = db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
        except sqlite3.OperationalError:
            pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= committed < 15
    fake_x.slow_every = 0.0
    fake_x.posts += make_posts(30, NOW - timedelta(minutes=30), step=timedelta(seconds=20), prefix="meanwhile")
    run = subprocess.run([sys.executable, "-m", "sentiment.cli", "run", "--config", str(config_path)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with Store(store_path) as store:
        ids = [p.id for p in store.posts()]
    assert sorted(ids) == sorted(p["id"] for p in fake_x.posts)  # every post, exactly once


def test_file_source_imports_files_dropped_in_a_folder(tmp_path):
    config_path = write_config(tmp_path, CONFIG.replace('kind = "x"', 'kind = "file"\npaths = ["inbox/*.jsonl"]'))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stamp = lambda m: (NOW - timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    rows = [{"id": str(i), "text": f"post {i}", "created_at": stamp(i)} for i in range(1, 21)]
    (inbox / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:12]))
    first = CliRunner().invoke(main, ["run", "--config", str(config_path)])
    assert first.exit_code == 0, first.output
    (inbox / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[12:]))
    second = CliRunner().invoke(main, ["run", "--config", str(config_path)])
    assert second.exit_code == 0, second.output
    assert [line["posts_new"] for line in log_lines(tmp_path)] == [12, 8]
    assert log_lines(tmp_path)[-1]["posts_in_window"] == 20


def test_without_a_token_the_configured_files_keep_the_reports_going(tmp_path, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    config_path = write_config(tmp_path, CONFIG.replace('kind = "x"', 'kind = "x"\npaths = ["inbox/*.csv"]'))
    (tmp_path / "inbox").mkdir()
    stamp = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "inbox" / "a.csv").write_text(f"id,text,created_at\n1,hello,{stamp}\n2,world,{stamp}\n")
    result = CliRunner().invoke(main, ["run", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    assert log_lines(tmp_path)[-1]["posts_new"] == 2


def test_without_a_token_or_files_the_run_fails_saying_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["run", "--config", str(write_config(tmp_path))])
    assert result.exit_code == 1 and "X_BEARER_TOKEN" in result.output
    assert log_lines(tmp_path)[-1]["outcome"] == "failed"


def test_status_shows_days_last_collection_report_and_window(tmp_path, fake_x, sleeps):
    config_path = write_config(tmp_path)
    fake_x.posts = make_posts(30, NOW - timedelta(hours=3))
    scheduled_run(load_config(config_path), api=XApi(fake_x.token, base_url=fake_x.url, sleep=sleeps))
    result = CliRunner().invoke(main, ["status", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "(30 posts)" in out and "last collection:" in out and "complete" in out
    assert "last run:" in out and "success" in out and "latest report:" in out and "next window:" in out


def test_prune_keeps_the_newest_folders_only(tmp_path):
    names = ["2026-01-01T000000Z", "2026-01-02T000000Z", "2026-01-02T000000Z-2", "2026-01-03T000000Z", "notes"]
    for name in names:
        (tmp_path / name).mkdir()
    deleted = prune_reports(tmp_path, 2)
    assert [p.name for p in deleted] == ["2026-01-01T000000Z", "2026-01-02T000000Z"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-01-02T000000Z-2", "2026-01-03T000000Z", "notes"]


def test_a_bad_config_is_a_usage_error_for_the_command_line(tmp_path):
    path = write_config(tmp_path, CONFIG.replace("keep_last = 2", "keep_lst = 2"))
    result = CliRunner().invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 2 and "keep_lst" in result.output
