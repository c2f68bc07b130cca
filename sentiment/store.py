"""The post store: one embedded SQLite file, upserted by post id.

The store keeps every post once (upsert by id), the raw JSON it came from
beside the normalized fields, which topics it was gathered for, and where it
came from. The schema is versioned with ``PRAGMA user_version``: opening an
older file migrates it in a transaction; a file from a newer `sentiment` is
refused rather than damaged.

>>> with Store(":memory:") as store:
...     store.upsert([Post(id="1", text="hello")], topic="demo").new
1
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from .errors import StoreError
from .models import Post
from .parallel import chunks

__all__ = ["Store", "UpsertCounts", "StoredRow", "stored_row", "default_store_path", "SCHEMA_VERSION"]

log = logging.getLogger(__name__)

_POST_COLUMNS = [f.name for f in fields(Post) if f.name not in ("id", "created_at")]


def default_store_path() -> Path:
    """``$SENTIMENT_STORE``, else ``data/sentiment.sqlite`` under the current folder."""
    return Path(os.environ.get("SENTIMENT_STORE") or Path("data") / "sentiment.sqlite")


def _v1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            created_ms INTEGER,
            text TEXT NOT NULL,
            lang TEXT,
            author_id TEXT,
            author_username TEXT,
            author_name TEXT,
            author_followers INTEGER,
            conversation_id TEXT,
            is_reply INTEGER NOT NULL DEFAULT 0,
            is_repost INTEGER NOT NULL DEFAULT 0,
            is_quote INTEGER NOT NULL DEFAULT 0,
            like_count INTEGER,
            repost_count INTEGER,
            reply_count INTEGER,
            quote_count INTEGER,
            impression_count INTEGER,
            raw TEXT,
            content_hash TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_updated TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE post_topics (
            post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
            topic TEXT NOT NULL,
            PRIMARY KEY (post_id, topic)
        ) WITHOUT ROWID"""
    )


def _v2(db: sqlite3.Connection) -> None:
    # Provenance of every import or collection, and a time index for window queries.
    db.execute(
        """CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            location TEXT NOT NULL,
            format TEXT,
            retrieved_at TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            n_new INTEGER NOT NULL DEFAULT 0,
            n_updated INTEGER NOT NULL DEFAULT 0,
            n_rejected INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("ALTER TABLE posts ADD COLUMN source_id INTEGER REFERENCES sources(id)")
    db.execute("CREATE INDEX posts_created ON posts(created_ms)")


def _v3(db: sqlite3.Connection) -> None:
    # Collection from the X API: one row per run (its query, window and where
    # it stopped, so an interrupted run resumes) and every page as received.
    db.execute(
        """CREATE TABLE collection_runs (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            query TEXT NOT NULL,
            start_time TEXT,
            end_time TEXT,
            since_id TEXT,
            topic TEXT,
            status TEXT NOT NULL,
            next_token TEXT,
            newest_id TEXT,
            n_posts INTEGER NOT NULL DEFAULT 0,
            n_new INTEGER NOT NULL DEFAULT 0,
            n_pages INTEGER NOT NULL DEFAULT 0,
            n_api_errors INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            tool_version TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX collection_runs_key ON collection_runs(key, status)")
    db.execute(
        """CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES collection_runs(id),
            url TEXT NOT NULL,
            pagination_token TEXT,
            next_token TEXT,
            retrieved_at TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            n_posts INTEGER NOT NULL,
            errors TEXT,
            raw TEXT NOT NULL
        )"""
    )


#: Migrations in order; the schema version of a file is how many have run.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class UpsertCounts:
    """What an upsert did: posts added, changed, and already stored as they are."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def _ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"time {moment.isoformat()} has no timezone")
    return int(moment.timestamp() * 1000)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


_POST_FIELDS = fields(Post)


def _content_hash(post: Post) -> str:
    # The fields as astuple would give them, without its deep copy of ``raw`` (the same repr, a tenth of the time).
    values = tuple(getattr(post, f.name) for f in _POST_FIELDS)
    return hashlib.sha1(repr((values, post.raw)).encode("utf-8", "surrogatepass")).hexdigest()


class StoredRow(NamedTuple):
    """A post as the ``posts`` table stores it: what :meth:`Store.upsert_rows` writes."""

    id: int
    created_ms: int | None
    values: tuple[Any, ...]  # the columns of _POST_COLUMNS, in order
    content_hash: str


def stored_row(post: Post) -> StoredRow:
    """The row of ``post`` (its content hash included): plain data, cheap to send between processes."""
    return StoredRow(int(post.id), _ms(post.created_at), tuple(getattr(post, name) for name in _POST_COLUMNS),
                   _content_hash(post))


# Positions in (created_ms, *_POST_COLUMNS): the flags, and the source JSON.
_MERGED_FLAGS = {1 + i for i, name in enumerate(_POST_COLUMNS) if name in ("is_reply", "is_repost", "is_quote")}
_MERGED_RAW = 1 + _POST_COLUMNS.index("raw")


def _merged(stored: Sequence[Any], new: Sequence[Any]) -> list[Any] | None:
    """``(created_ms, *_POST_COLUMNS)`` of a stored post updated by a new copy, or None if that changes nothing.

    What the copy lacks (None) keeps the stored value; flags are or-ed. The
    source JSON does not count as a change: it is replaced only along with one.
    """
    merged = []
    for i, (old, value) in enumerate(zip(stored, new)):
        if i in _MERGED_FLAGS:
            merged.append(bool(old) or bool(value))
        else:
            merged.append(old if value is None else value)
    if all(m == o for i, (m, o) in enumerate(zip(merged, stored)) if i != _MERGED_RAW):
        return None
    return merged


#: Statuses of collection runs that are not resumed: done, or closed after X refused their saved page.
_FINISHED = "('complete', 'abandoned')"


class Store:
    """A SQLite file of posts. Use as a context manager, or call :meth:`close`.

    ``path`` may be ``":memory:"`` for a throwaway store. Writes run in
    transactions (:meth:`transaction`); a failed import leaves the file as it was.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a
            # transaction spans exactly what the caller asked for.
            self.db = sqlite3.connect(":memory:" if memory else str(self.path), isolation_level=None, timeout=30)
            self.db.execute("PRAGMA foreign_keys = ON")
            if not memory:
                self.db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
        self._in_transaction = False

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this sentiment "
                f"understands ({SCHEMA_VERSION}); upgrade sentiment to open it"
            )
        for number in range(version, SCHEMA_VERSION):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[number](self.db)
                self.db.execute(f"PRAGMA user_version = {number + 1}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            log.info("migrated %s to schema version %d", self.path, number + 1)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is written at once, or not at all on an exception."""
        if self._in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._in_transaction = False

    # -- writing -------------------------------------------------------------
    def add_source(self, kind: str, location: str, format: str | None = None) -> int:
        """Record where a batch of posts came from; returns the source id."""
        from . import __version__

        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO sources (kind, location, format, retrieved_at, tool_version) VALUES (?, ?, ?, ?, ?)",
                (kind, location, format, _now(), __version__),
            )
        return int(cur.lastrowid or 0)

    def finish_source(self, source_id: int, counts: UpsertCounts, rejected: int) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE sources SET n_new = ?, n_updated = ?, n_rejected = ? WHERE id = ?",
                (counts.new, counts.updated, rejected, source_id),
            )

    def upsert(self, posts: Iterable[Post], *, topic: str | None = None, source_id: int | None = None) -> UpsertCounts:
        """Insert new posts and update changed ones, in one transaction.

        A post already stored is merged with what arrives: a field the new
        source does not carry (None: a CSV without metrics, say) keeps its
        stored value, a flag once set (reply, repost, quote) stays set, and
        everything the source does carry replaces what was stored (newer
        metrics, an edit). If that changes nothing the post is left alone,
        its source JSON included, and counted unchanged; so every id is
        stored once and a thinner copy never erases a fuller one. A post
        given twice in one batch of 500 is taken as given last.
        """
        return self.upsert_rows(map(stored_row, posts), topic=topic, source_id=source_id)

    def upsert_rows(self, rows: Iterable[StoredRow], *, topic: str | None = None,
                    source_id: int | None = None) -> UpsertCounts:
        """:meth:`upsert` for posts already made into rows by :func:`stored_row` (in worker processes, say)."""
        counts = UpsertCounts()
        now = _now()
        insert = (f"INSERT INTO posts (id, created_ms, {', '.join(_POST_COLUMNS)}, content_hash, first_seen, "
                  f"last_updated, source_id) VALUES ({', '.join('?' * (len(_POST_COLUMNS) + 6))})")
        update = (f"UPDATE posts SET created_ms = ?, {', '.join(f'{name} = ?' for name in _POST_COLUMNS)}, "
                  f"content_hash = ?, last_updated = ? WHERE id = ?")
        with self.transaction():
            for chunk in chunks(rows, 500):
                chunk = list({row.id: row for row in chunk}.values())
                # One query for the chunk's stored hashes, then the stored rows of those that differ.
                ids = [row.id for row in chunk]
                known = dict(self.db.execute(
                    f"SELECT id, content_hash FROM posts WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall())
                differ = [row.id for row in chunk if row.id in known and known[row.id] != row.content_hash]
                stored = {}
                if differ:
                    stored = {r[0]: r[1:] for r in self.db.execute(
                        f"SELECT id, created_ms, {', '.join(_POST_COLUMNS)} FROM posts "
                        f"WHERE id IN ({', '.join('?' * len(differ))})", differ)}
                inserts, updates = [], []
                for row in chunk:
                    before = known.get(row.id)
                    if before is None:
                        inserts.append([row.id, row.created_ms, *row.values, row.content_hash, now, now, source_id])
                        counts.new += 1
                    elif before == row.content_hash:
                        counts.unchanged += 1
                    else:
                        merged = _merged(stored[row.id], (row.created_ms, *row.values))
                        if merged is None:
                            counts.unchanged += 1
                        else:
                            updates.append([*merged, row.content_hash, now, row.id])
                            counts.updated += 1
                self.db.executemany(insert, inserts)
                self.db.executemany(update, updates)
                if topic is not None:
                    self.db.executemany("INSERT OR IGNORE INTO post_topics (post_id, topic) VALUES (?, ?)",
                                        [(row.id, topic) for row in chunk])
        return counts

    # -- collection runs -------------------------------------------------------
    def resumable_run(self, key: str) -> dict[str, Any] | None:
        """The latest unfinished collection run with this key, if it has a page left to read."""
        row = self.db.execute(
            f"SELECT * FROM collection_runs WHERE key = ? AND status NOT IN {_FINISHED} AND next_token IS NOT NULL "
            "ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        return self._run_dict(row)

    def resumable_run_for_query(self, endpoint: str, query: str) -> dict[str, Any] | None:
        """The latest unfinished run of this query on this endpoint, whatever its window."""
        row = self.db.execute(
            f"SELECT * FROM collection_runs WHERE endpoint = ? AND query = ? AND status NOT IN {_FINISHED} "
            "AND next_token IS NOT NULL ORDER BY id DESC LIMIT 1",
            (endpoint, query),
        ).fetchone()
        return self._run_dict(row)

    def last_run(self) -> dict[str, Any] | None:
        """The most recent collection run."""
        return self._run_dict(self.db.execute("SELECT * FROM collection_runs ORDER BY id DESC LIMIT 1").fetchone())

    def posts_per_day(self, topic: str | None = None, days: int = 14) -> list[tuple[str, int]]:
        """Stored posts per UTC day, for the last ``days`` days that have any."""
        where, params = self._where(topic, None, None)
        rows = self.db.execute(
            f"SELECT date(created_ms / 1000, 'unixepoch') AS day, COUNT(*) FROM posts{where} "
            f"{'AND' if where else 'WHERE'} created_ms IS NOT NULL GROUP BY day ORDER BY day DESC LIMIT ?",
            [*params, days],
        ).fetchall()
        return [(day, int(n)) for day, n in reversed(rows)]

    def newest_collected_id(self, endpoint: str, query: str, start_time: str | None, *,
                            any_window: bool = False) -> str | None:
        """The newest post id read by completed runs of this query whose window began no later
        than ``start_time`` (or whatever their window, with ``any_window``): a new run needs
        only posts newer than it."""
        rows = self.db.execute(
            "SELECT newest_id, start_time, end_time FROM collection_runs WHERE endpoint = ? AND query = ? "
            "AND status = 'complete' AND newest_id IS NOT NULL",
            (endpoint, query),
        ).fetchall()

        def covers(start: str | None, end: str | None) -> bool:
            # The old run read everything from the new window's start up to its newest post.
            if start_time is None:
                return start is None
            begins_before = start is None or _parse(start) <= _parse(start_time)
            reaches = end is None or _parse(end) >= _parse(start_time)
            return begins_before and reaches

        ids = [int(newest) for newest, start, end in rows if any_window or covers(start, end)]
        return str(max(ids)) if ids else None

    def start_run(self, *, key: str, endpoint: str, query: str, start_time: str | None, end_time: str | None,
                  since_id: str | None, topic: str | None) -> dict[str, Any]:
        from . import __version__

        now = _now()
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO collection_runs (key, endpoint, query, start_time, end_time, since_id, topic, status, "
                "started_at, updated_at, tool_version) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                (key, endpoint, query, start_time, end_time, since_id, topic, now, now, __version__),
            )
        row = self.db.execute("SELECT * FROM collection_runs WHERE id = ?", (cur.lastrowid,)).fetchone()
        return self._run_dict(row) or {}

    def save_page(self, run_id: int, *, url: str, pagination_token: str | None, next_token: str | None,
                  raw: str, posts: list[Post], n_read: int, n_api_errors: int, errors: str | None,
                  newest_id: str | None, topic: str | None) -> UpsertCounts:
        """Store one API page, its posts and the run's new resume point in one transaction."""
        from . import __version__

        with self.transaction():
            self.db.execute(
                "INSERT INTO pages (run_id, url, pagination_token, next_token, retrieved_at, tool_version, n_posts, "
                "errors, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, url, pagination_token, next_token, _now(), __version__, n_read, errors, raw),
            )
            counts = self.upsert(posts, topic=topic)
            self.db.execute(
                "UPDATE collection_runs SET next_token = ?, n_posts = n_posts + ?, n_new = n_new + ?, "
                "n_pages = n_pages + 1, n_api_errors = n_api_errors + ?, updated_at = ?, "
                "newest_id = CASE WHEN ? IS NOT NULL AND (newest_id IS NULL OR CAST(? AS INTEGER) > "
                "CAST(newest_id AS INTEGER)) THEN ? ELSE newest_id END WHERE id = ?",
                (next_token, n_read, counts.new, n_api_errors, _now(), newest_id, newest_id, newest_id, run_id),
            )
        return counts

    def set_run_status(self, run_id: int, status: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE collection_runs SET status = ?, updated_at = ? WHERE id = ?",
                            (status, _now(), run_id))

    def runs(self) -> list[dict[str, Any]]:
        """Every collection run, oldest first."""
        return [self._run_dict(r) or {} for r in self.db.execute("SELECT * FROM collection_runs ORDER BY id")]

    def _run_dict(self, row: tuple[Any, ...] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        names = [d[0] for d in self.db.execute("SELECT * FROM collection_runs LIMIT 0").description]
        return dict(zip(names, row))

    def provenance(self) -> list[str]:
        """Where the stored posts came from, in a few lines for a report's methods page."""
        lines = [f"Store: {self.path} (schema version {self.schema_version})."]
        files = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_new), 0), MIN(retrieved_at), MAX(retrieved_at) FROM sources "
            "WHERE kind = 'file'").fetchone()
        if files[0]:
            lines.append(f"Imported from {files[0]} file import(s) ({files[2]} to {files[3]}), "
                         f"{files[1]:,} new posts.")
        runs = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_posts), 0), COALESCE(SUM(n_pages), 0), MIN(started_at), "
            "MAX(updated_at) FROM collection_runs").fetchone()
        if runs[0]:
            lines.append(f"Collected from the X API v2 in {runs[0]} run(s): {runs[1]:,} posts read in {runs[2]:,} "
                         f"pages ({runs[3]} to {runs[4]}); each page is kept raw with its URL and time.")
        return lines

    # -- reading -------------------------------------------------------------
    def _where(self, topic: str | None, since: datetime | None, until: datetime | None) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if topic is not None:
            clauses.append("id IN (SELECT post_id FROM post_topics WHERE topic = ?)")
            params.append(topic)
        if since is not None:  # the window is [since, until), like the X API's start_time/end_time
            clauses.append("created_ms >= ?")
            params.append(_ms(since))
        if until is not None:
            clauses.append("created_ms < ?")
            params.append(_ms(until))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def count(self, topic: str | None = None, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many stored posts match the topic and the window ``[since, until)``."""
        where, params = self._where(topic, since, until)
        return int(self.db.execute(f"SELECT COUNT(*) FROM posts{where}", params).fetchone()[0])

    def posts(
        self, topic: str | None = None, since: datetime | None = None, until: datetime | None = None,
        *, raw: bool = True,
    ) -> Iterator[Post]:
        """Stored posts of a topic and window, oldest first, streamed from disk.

        ``raw=False`` leaves out each post's source JSON (``Post.raw`` is None),
        which classifying and reporting do not read.
        """
        where, params = self._where(topic, since, until)
        columns = _POST_COLUMNS if raw else [c for c in _POST_COLUMNS if c != "raw"]
        cursor = self.db.execute(
            f"SELECT id, created_ms, {', '.join(columns)} FROM posts{where} ORDER BY created_ms, id", params
        )
        bools = {"is_reply", "is_repost", "is_quote"}
        for row in cursor:
            values = dict(zip(columns, row[2:]))
            for name in bools:
                values[name] = bool(values[name])
            created = None if row[1] is None else datetime.fromtimestamp(row[1] / 1000, tz=timezone.utc)
            yield Post(id=str(row[0]), created_at=created, **values)

    def topics(self) -> dict[str, int]:
        """Topic names in the store with their post counts."""
        rows = self.db.execute("SELECT topic, COUNT(*) FROM post_topics GROUP BY topic ORDER BY topic")
        return {name: int(n) for name, n in rows}
