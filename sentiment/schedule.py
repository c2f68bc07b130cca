"""Scheduled runs: collect what is new, report on a window, keep the folder tidy.

:func:`scheduled_run` is what ``sentiment run --config FILE`` does, safe to
call from cron or a systemd timer every hour: it takes a lock on the store
(one run at a time), collects incrementally from the X API (never paying
twice for a post; an interrupted collection is resumed) or imports files
dropped into a folder, writes a dated report folder for the window, points
``latest`` at it, prunes old report folders beyond ``keep_last``, and appends
one JSON line per run to a run log.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .errors import CollectError, ConfigError, CredentialsError, RecordError, SentimentError
from .normalize import parse_time

__all__ = [
    "Config", "RunOutcome", "load_config", "write_example_config", "scheduled_run", "prune_reports",
    "EXIT_SUCCESS", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_PARTIAL", "EXIT_LOCKED",
]

log = logging.getLogger(__name__)

#: Exit codes of `sentiment run --config` (and of the CLI in general).
EXIT_SUCCESS, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL, EXIT_LOCKED = 0, 1, 2, 3, 4
_REPORT_DIR = re.compile(r"\d{4}-\d{2}-\d{2}T\d{6}Z(-\d+)?")
_DURATION = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

EXAMPLE_CONFIG = '''# sentiment run configuration (TOML). Use it as:  sentiment run --config THIS_FILE
# Relative paths are relative to the folder of this file.

# The topic: a name (./data/topics/NAME or a shipped topic) or a topic folder.
topic = "paris_declaration"
# The post store (SQLite) and where dated report folders go.
store = "data/sentiment.sqlite"
output = "reports"
# One JSON line per run: start, end, outcome, posts new and in the window, shares.
log_file = "reports/runs.jsonl"

[source]
# "x": collect from the X API v2 (bearer token from X_BEARER_TOKEN; or set
# bearer_token here, and keep this file private). "file": import the files
# matching `paths` (globs), for teams without API access.
kind = "x"
# query = "..."             # default: the topic's query
# languages = ["en", "fr"]  # default: every language
archive = false             # full-archive search instead of the last 7 days
max_posts_per_run = 5000    # hard budget on posts read per run (X bills per post)
# paths = ["inbox/*.jsonl", "inbox/*.csv"]   # for kind = "file"; with "x", used when there is no token

[window]
# Report on the last N minutes/hours/days/weeks before the run ("24h", "7d")...
last = "24h"
# ...or on a fixed range instead:
# start = "2026-01-05T00:00:00Z"
# end = "2026-01-10T00:00:00Z"

[report]
formats = ["png", "pdf", "csv", "parquet", "json"]
keep_last = 48              # report folders to keep; older ones are deleted
copies = "all"              # near-copies (campaigns) count "all" times or "once" per group
include_reposts = false     # reposts are left out of shares and themes (and counted)
'''


@dataclass(frozen=True)
class Config:
    """A run configuration, paths resolved against the file's folder."""

    path: Path
    topic: str | None
    store: Path
    output: Path
    log_file: Path | None
    source: str
    paths: tuple[str, ...]
    query: str | None
    languages: tuple[str, ...]
    archive: bool
    max_posts: int | None
    window_last: timedelta | None
    window_start: datetime | None
    window_end: datetime | None
    formats: tuple[str, ...]
    keep_last: int | None
    copies: str = "all"
    include_reposts: bool = False
    bearer_token: str | None = field(default=None, repr=False)

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        if self.window_last is not None:
            return now - self.window_last, now
        assert self.window_start is not None and self.window_end is not None
        return self.window_start, self.window_end


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if (value is not None and not isinstance(value, kind)) or (isinstance(value, bool) and kind is int):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}: '{key}' must be {names}, got {value!r}")
    return value


#: The keys a run configuration may hold, by table ("" is the top level).
_KNOWN_KEYS = {
    "": {"topic", "store", "output", "log_file", "source", "window", "report"},
    "source": {"kind", "paths", "query", "languages", "archive", "max_posts_per_run", "bearer_token"},
    "window": {"last", "start", "end"},
    "report": {"formats", "keep_last", "copies", "include_reposts"},
}


def _check_keys(data: dict[str, Any], where: str) -> None:
    """A misspelt key is an error, not a setting silently left at its default."""
    for table, known in _KNOWN_KEYS.items():
        values = data if not table else data.get(table)
        if not isinstance(values, dict):
            continue
        for key in values:
            if key not in known:
                place = f"[{table}]" if table else "the top level"
                raise ConfigError(f"{where}: unknown key {key!r} in {place} (known: {', '.join(sorted(known))})")


def _duration(text: Any, where: str) -> timedelta:
    if not isinstance(text, str):
        raise ConfigError(f"{where}: window.last must be a string such as \"24h\", got {text!r}")
    match = _DURATION.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"{where}: window.last {text!r} must look like 90m, 24h, 7d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def load_config(path: str | Path) -> Config:
    """Read and check a run configuration; errors name the file and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (write one with `sentiment init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    base = path.resolve().parent
    where = str(path)
    _check_keys(data, where)

    def resolve(value: str | None) -> Path | None:
        return None if value is None else (base / value).resolve()

    source = _get(data, "source", dict, where, {})
    window = _get(data, "window", dict, where, {})
    report = _get(data, "report", dict, where, {})
    kind = _get(source, "kind", str, where, "x")
    if kind not in ("x", "file"):
        raise ConfigError(f"{where}: source.kind must be \"x\" or \"file\", got {kind!r}")
    paths = tuple(_get(source, "paths", list, where, []))
    if kind == "file" and not paths:  # (with kind = "x", paths are the fallback without a token)
        raise ConfigError(f"{where}: source.paths must list the files (globs) to import when source.kind = \"file\"")
    max_posts = _get(source, "max_posts_per_run", int, where)
    if max_posts is not None and max_posts < 10:
        raise ConfigError(f"{where}: source.max_posts_per_run must be at least 10")
    last, start, end = window.get("last"), window.get("start"), window.get("end")
    if (last is None) == (start is None and end is None):
        raise ConfigError(f"{where}: give either window.last (such as \"24h\") or window.start and window.end")
    window_start = window_end = None
    if last is None:
        try:
            window_start, window_end = parse_time(start, "window.start"), parse_time(end, "window.end")
        except RecordError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if window_end <= window_start:
            raise ConfigError(f"{where}: window.end must be after window.start")
    from .report import REPORT_FORMATS

    formats = tuple(_get(report, "formats", list, where, list(REPORT_FORMATS)))
    unknown = set(formats) - set(REPORT_FORMATS)
    if unknown:
        raise ConfigError(f"{where}: report.formats may hold {', '.join(REPORT_FORMATS)}, not {sorted(unknown)}")
    keep_last = _get(report, "keep_last", int, where)
    if keep_last is not None and keep_last < 1:
        raise ConfigError(f"{where}: report.keep_last must be at least 1")
    copies = _get(report, "copies", str, where, "all")
    if copies not in ("all", "once"):
        raise ConfigError(f"{where}: report.copies must be \"all\" or \"once\", got {copies!r}")
    token = _get(source, "bearer_token", str, where)
    if token and os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("%s holds a bearer token but others can read it; chmod 600 it", path)
    return Config(
        path=path.resolve(),
        topic=_get(data, "topic", str, where),
        store=resolve(_get(data, "store", str, where, "data/sentiment.sqlite")) or base,
        output=resolve(_get(data, "output", str, where, "reports")) or base,
        log_file=resolve(_get(data, "log_file", str, where)),
        source=kind,
        paths=tuple(str(base / p) for p in paths),
        query=_get(source, "query", str, where),
        languages=tuple(_get(source, "languages", list, where, [])),
        archive=bool(_get(source, "archive", bool, where, False)),
        max_posts=max_posts,
        window_last=_duration(last, where) if last is not None else None,
        window_start=window_start,
        window_end=window_end,
        formats=formats,
        keep_last=keep_last,
        copies=copies,
        include_reposts=bool(_get(report, "include_reposts", bool, where, False)),
        bearer_token=token or None,
    )


def write_example_config(path: str | Path, *, force: bool = False) -> Path:
    """Write the commented example configuration; refuses to overwrite unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; not overwriting it (use --force)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    return path


@dataclass
class RunOutcome:
    """What a scheduled run did; ``exit_code`` is the process's."""

    outcome: str
    exit_code: int
    started: datetime
    ended: datetime | None = None
    report: Path | None = None
    posts_new: int = 0
    posts_in_window: int = 0
    shares: dict[str, float] = field(default_factory=dict)
    collection: str | None = None
    message: str = ""

    def log_record(self) -> dict[str, Any]:
        iso = lambda t: t.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")  # noqa: E731
        return {
            "start": iso(self.started), "end": iso(self.ended or self.started), "outcome": self.outcome,
            "exit_code": self.exit_code, "posts_new": self.posts_new, "posts_in_window": self.posts_in_window,
            "shares": {k: round(v, 4) for k, v in self.shares.items()}, "collection": self.collection,
            "report": str(self.report) if self.report else None, "message": self.message,
        }


def _append_log(path: Path | None, outcome: RunOutcome) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(outcome.log_record(), ensure_ascii=False) + "\n"
    # One write to a file opened for appending: concurrent writers never interleave lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _point_latest(output: Path, folder: Path) -> None:
    link = output / "latest"
    tmp = output / f".latest.tmp{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(folder.name, tmp)  # relative, so the folder can be moved or shared as a whole
    os.replace(tmp, link)


def prune_reports(output: Path, keep_last: int) -> list[Path]:
    """Delete dated report folders beyond the newest ``keep_last``; returns those deleted."""
    folders = sorted(p for p in output.iterdir() if p.is_dir() and not p.is_symlink() and _REPORT_DIR.fullmatch(p.name))
    doomed = folders[:-keep_last] if keep_last < len(folders) else []
    for folder in doomed:
        shutil.rmtree(folder)
    return doomed


def _collect(config: Config, store: Any, topic: Any, since: datetime, now: datetime, api: Any) -> tuple[int, str]:
    """Collect or import what is new; returns (posts new, collection status)."""
    from .xapi import bearer_token_from_env

    use_files = config.source == "file"
    if not use_files and config.paths and not (config.bearer_token or bearer_token_from_env()):
        # No API access today: the files dropped into the folder keep the reports going.
        log.warning("no X bearer token; importing the files of source.paths instead")
        use_files = True
    if use_files:
        from .importers import import_file

        new = 0
        files = sorted({f for pattern in config.paths for f in glob.glob(pattern)})
        for name in files:
            new += import_file(store, name, topic=topic.name).new
        return new, f"imported {len(files)} files"

    from .collect import build_query, collect
    from .xapi import XApi

    api = api or XApi(config.bearer_token)
    query = build_query(config.query or topic.query, languages=config.languages, archive=config.archive)
    endpoint = "all" if config.archive else "recent"
    budget = config.max_posts
    new, status = 0, "complete"
    # At most two passes: finish an interrupted run (if any), then read what is newer.
    for _ in range(2):
        # Only posts newer than the newest already read (since_id), whatever the window;
        # the very first run reaches back to the window's start instead.
        newest = store.newest_collected_id(endpoint, query, None, any_window=True)
        start = since if newest is None else None
        if start is not None and not config.archive:
            start = max(start, now - timedelta(days=7) + timedelta(minutes=1))
        result = collect(store, api, query=query, since=start, since_id=newest, max_posts=budget,
                         archive=config.archive, topic=topic.name, now=now, resume_any_window=True)
        new, status = new + result.posts_new, result.status
        if not (result.resumed and status == "complete"):
            break
        if budget is not None:
            budget -= result.posts_read
            if budget < 10:
                status = "budget"
                break
    return new, status


def scheduled_run(
    config: Config,
    *,
    wait: float | None = 0,
    now: datetime | None = None,
    api: Any = None,
    progress: Any = None,
) -> RunOutcome:
    """One scheduled run; see the module docstring. ``wait`` is how long to wait for
    another run's lock (0: give up at once; None: wait for ever)."""
    from .pipeline import report
    from .store import Store
    from .topic import load_topic

    started = now or datetime.now(timezone.utc)
    outcome = RunOutcome("failed", EXIT_FAILURE, started)
    config.store.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(config.store) + ".lock")
    try:
        lock.acquire(timeout=-1 if wait is None else wait)
    except Timeout:
        outcome.outcome, outcome.exit_code = "locked", EXIT_LOCKED
        outcome.message = f"another run holds the lock on {config.store}; not starting a second one"
        outcome.ended = datetime.now(timezone.utc)
        _append_log(config.log_file, outcome)
        return outcome
    try:
        topic = load_topic(config.topic)
        since, until = config.window(started)
        with Store(config.store) as store:
            partial = ""
            try:
                outcome.posts_new, outcome.collection = _collect(config, store, topic, since, started, api)
            except CredentialsError:
                raise
            except CollectError as exc:  # report on what is stored; say the collection fell short
                outcome.collection, partial = "failed", f"collection stopped: {exc}"
                log.error("%s", partial)
            if outcome.collection in ("usage_cap", "budget"):
                partial = f"collection stopped early ({outcome.collection}); the next run continues"
            folder = report(store, topic, since=since, until=until, out_dir=config.output, formats=config.formats,
                            copies=config.copies, include_reposts=config.include_reposts, progress=progress)
            outcome.posts_in_window = store.count(topic.name, since, until)
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        outcome.shares = {g: v["share"] for g, v in summary["groups"].items()}
        outcome.report = folder
        _point_latest(config.output, folder)
        if config.keep_last:
            prune_reports(config.output, config.keep_last)
        outcome.outcome, outcome.exit_code = ("partial", EXIT_PARTIAL) if partial else ("success", EXIT_SUCCESS)
        outcome.message = partial
    except SentimentError as exc:
        outcome.message = str(exc)
        raise
    finally:
        outcome.ended = datetime.now(timezone.utc)
        _append_log(config.log_file, outcome)
        lock.release()
    return outcome
