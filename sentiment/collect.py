"""Collection: X API v2 search into the store, never losing or repeating a post.

Every page is written to the store (raw JSON, normalized posts, provenance,
and the run's resume point) in one transaction before the next request, so a
crash loses at most the page in flight. A run that stopped for any reason
(Ctrl-C, a kill, a crash, the usage cap, the post budget) resumes at the
page where it stopped on the next call with the same query and window. A run
after a completed one asks only for posts newer than those already read (the
``newest_id`` rule), so scheduled runs never pay twice for a post.

X bills per post read; :class:`Prices` holds the rates in one place and
:func:`estimate` uses the counts endpoint to price a collection before any
post is pulled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import QueryError, RecordError, UsageCapReached
from .normalize import iter_page_posts, normalize_post, page_errors, parse_time
from .store import Store
from .xapi import XApi

__all__ = [
    "Prices", "CollectResult", "Estimate", "build_query", "collect", "estimate", "default_window", "MAX_QUERY_LENGTH",
]

log = logging.getLogger(__name__)

#: X's query length limits: recent search, full-archive search.
MAX_QUERY_LENGTH = {"recent": 512, "all": 1024}
#: X returns 10 to 100 posts a page.
MIN_PAGE, MAX_PAGE = 10, 100
RECENT_DAYS = 7

TWEET_FIELDS = ("attachments,author_id,conversation_id,created_at,edit_history_tweet_ids,entities,id,"
                "in_reply_to_user_id,lang,note_tweet,possibly_sensitive,public_metrics,referenced_tweets,"
                "reply_settings")
USER_FIELDS = "created_at,description,id,location,name,public_metrics,username,verified"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"


@dataclass(frozen=True)
class Prices:
    """What X charges (pay-per-use), in one place. Override with environment
    variables ``SENTIMENT_PRICE_PER_POST`` and ``SENTIMENT_PRICE_PER_COUNTS_REQUEST``."""

    per_post_read: float = 0.005
    per_counts_request: float = 0.005
    currency: str = "USD"

    @classmethod
    def from_env(cls) -> Prices:
        def rate(name: str, default: float) -> float:
            value = os.environ.get(name)
            if value is None:
                return default
            try:
                number = float(value)
            except ValueError:
                raise QueryError(f"{name} must be a number, got {value!r}") from None
            if number < 0:
                raise QueryError(f"{name} must not be negative")
            return number

        return cls(rate("SENTIMENT_PRICE_PER_POST", cls.per_post_read),
                   rate("SENTIMENT_PRICE_PER_COUNTS_REQUEST", cls.per_counts_request))

    def posts(self, n: int) -> float:
        return n * self.per_post_read


def build_query(base: str, *, languages: Sequence[str] = (), include_reposts: bool = False,
                archive: bool = False) -> str:
    """The search query with language and repost filters, checked against X's length limit.

    >>> build_query("paris declaration", languages=["en", "fr"])
    '(paris declaration) (lang:en OR lang:fr) -is:retweet'
    """
    query = base.strip()
    if not query:
        raise QueryError("the search query is empty")
    if languages:
        for lang in languages:
            if not lang.isalpha() or not 2 <= len(lang) <= 3:
                raise QueryError(f"--lang {lang!r} is not a language code such as en or uk")
        langs = " OR ".join(f"lang:{lang.lower()}" for lang in languages)
        query = f"({query}) ({langs})" if len(languages) > 1 else f"({query}) lang:{languages[0].lower()}"
    if not include_reposts and "is:retweet" not in query:
        query += " -is:retweet"
    limit = MAX_QUERY_LENGTH["all" if archive else "recent"]
    if len(query) > limit:
        kind = "full-archive" if archive else "recent"
        raise QueryError(f"the query is {len(query)} characters; X's {kind} search allows {limit}"
                         + ("" if archive else " (full-archive search, --archive, allows 1024)"))
    return query


def default_window(start: datetime, end: datetime, *, archive: bool,
                   now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """A topic's window clipped to what the endpoint reaches (recent search: 7 days).

    A window that ends before recent search can reach is refused with a hint
    to use full-archive search.
    """
    now = now or datetime.now(timezone.utc)
    until: datetime | None = end if end < now else None
    if archive:
        return start, until
    reach = now - timedelta(days=RECENT_DAYS) + timedelta(minutes=1)
    if until is not None and until <= reach:
        raise QueryError(f"the topic's window ends {end:%Y-%m-%d}, beyond the {RECENT_DAYS} days recent search "
                         "reaches; use --archive or give --since/--until")
    return (start if start > reach else None), until


#: X's snowflake epoch: an id's top bits count milliseconds since this moment.
_SNOWFLAKE_EPOCH_MS = 1288834974657


def id_time(post_id: str | int) -> datetime:
    """When the post with this (snowflake) id was created, to the millisecond."""
    return datetime.fromtimestamp(((int(post_id) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000, tz=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise QueryError(f"time {moment.isoformat()} has no timezone; give UTC, e.g. 2026-01-06T00:00:00Z")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_window(since: datetime | None, until: datetime | None, archive: bool, now: datetime) -> None:
    start, end = _iso(since), _iso(until)  # rejects naive times
    if since and until and until <= since:
        raise QueryError(f"--until ({end}) must be after --since ({start})")
    if until and until > now:
        raise QueryError(f"--until ({end}) is in the future; leave it out to collect up to now")
    if not archive and since and since < now - timedelta(days=RECENT_DAYS):
        raise QueryError(f"--since ({start}) is more than {RECENT_DAYS} days ago: recent search cannot reach it; "
                         "use --archive (full-archive search) or a later --since")


@dataclass
class CollectResult:
    """What a collection did, and how it ended.

    ``status`` is ``complete`` (nothing left to read), ``budget`` (stopped at
    ``max_posts``; the next run resumes) or ``usage_cap`` (X refused further
    reads; the next run resumes).
    """

    run_id: int
    query: str
    status: str
    resumed: bool
    since_id: str | None
    posts_read: int = 0
    posts_new: int = 0
    pages: int = 0
    requests: int = 0
    api_errors: list[Mapping[str, Any]] = field(default_factory=list)
    rejected: int = 0
    cost: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class Estimate:
    """What a collection would read and cost, from the counts endpoint."""

    query: str
    posts: int
    to_read: int
    count_requests: int
    cost_counts: float
    cost_posts: float
    currency: str


def _key(endpoint: str, query: str, start: str | None, end: str | None, since_id: str | None) -> str:
    return hashlib.sha256(json.dumps([endpoint, query, start, end, since_id]).encode()).hexdigest()


def collect(
    store: Store,
    api: XApi,
    *,
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    since_id: str | None = None,
    archive: bool = False,
    max_posts: int | None = None,
    topic: str | None = None,
    prices: Prices | None = None,
    progress: Callable[[str, int | None, str], Any] | None = None,
    now: datetime | None = None,
    resume_any_window: bool = False,
) -> CollectResult:
    """Collect the posts matching ``query`` (already built by :func:`build_query`) into ``store``.

    The window is ``[since, until)``. ``max_posts`` is a hard budget on posts
    read (X bills reads, so it also caps the spend). ``resume_any_window``
    resumes an unfinished run of the same query whatever its window (for
    scheduled runs, whose window moves with the clock).
    """
    prices = prices or Prices.from_env()
    now = now or datetime.now(timezone.utc)
    endpoint = "all" if archive else "recent"
    if len(query) > MAX_QUERY_LENGTH[endpoint]:
        raise QueryError(f"the query is {len(query)} characters; X's {endpoint} search allows "
                         f"{MAX_QUERY_LENGTH[endpoint]}")
    _check_window(since, until, archive, now)
    if max_posts is not None and max_posts < MIN_PAGE:
        raise QueryError(f"--max-posts must be at least {MIN_PAGE}, the smallest page X returns")
    if since_id is not None and not str(since_id).isdigit():
        raise QueryError(f"--since-id must be a post id (digits), got {since_id!r}")
    start, end = _iso(since), _iso(until)

    if resume_any_window:
        run = store.resumable_run_for_query(endpoint, query)
    else:
        run = store.resumable_run(_key(endpoint, query, start, end, since_id))
    resumed = run is not None
    if run is None:
        newest = store.newest_collected_id(endpoint, query, start)
        effective = max((int(x) for x in (since_id, newest) if x), default=None)
        run = store.start_run(key=_key(endpoint, query, start, end, since_id), endpoint=endpoint, query=query,
                              start_time=start, end_time=end, since_id=str(effective) if effective else None,
                              topic=topic)
        if newest:
            log.info("posts up to id %s were already collected; asking only for newer ones", newest)
    else:
        store.set_run_status(run["id"], "running")
        log.info("resuming collection run %d after %d posts", run["id"], run["n_posts"])

    result = CollectResult(run_id=run["id"], query=query, status="running", resumed=resumed,
                           since_id=run["since_id"])
    params: dict[str, Any] = {"query": query, "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS,
                              "expansions": EXPANSIONS}
    # The run's own window: a resumed run goes on with the parameters it began with.
    # Of since_id (newer than what we have) and start_time, the later bound is
    # sent: an id is a snowflake that carries its time, and a since_id older
    # than the window's start would read (and bill) posts before it.
    if run["since_id"] and (not run["start_time"] or id_time(run["since_id"]) >= parse_time(run["start_time"])):
        params["since_id"] = run["since_id"]
    elif run["start_time"]:
        params["start_time"] = run["start_time"]
    if run["end_time"]:
        params["end_time"] = run["end_time"]
    token = run["next_token"] if resumed else None
    requests_before = api.requests_sent
    bar = progress("collecting", max_posts, "posts") if progress else None
    try:
        while True:
            page_size = MAX_PAGE
            if max_posts is not None:
                remaining = max_posts - result.posts_read
                if remaining < MIN_PAGE:
                    result.status = "budget"
                    break
                page_size = min(MAX_PAGE, remaining)
            request = dict(params, max_results=page_size)
            if token:
                request["next_token"] = token
            page = api.search(request, archive=archive)
            body = page.body
            errors = page_errors(body)
            posts, n_read = [], 0
            for _, item, users in iter_page_posts(body):
                n_read += 1
                try:
                    posts.append(normalize_post(item, users))
                except RecordError as exc:
                    result.rejected += 1
                    log.warning("skipped a post the API sent: %s", exc)
            meta = body.get("meta") if isinstance(body.get("meta"), Mapping) else {}
            next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            newest = max((int(p.id) for p in posts), default=None)
            counts = store.save_page(
                run["id"], url=page.url, pagination_token=token, next_token=next_token,
                raw=json.dumps(body, ensure_ascii=False), posts=posts, n_read=n_read, n_api_errors=len(errors),
                errors=json.dumps(errors, ensure_ascii=False) if errors else None,
                newest_id=str(newest) if newest else None, topic=topic,
            )
            for error in errors:
                log.warning("the X API reported an error in its answer: %s",
                            error.get("detail") or error.get("title") or error)
            result.api_errors.extend(errors)
            result.posts_read += n_read
            result.posts_new += counts.new
            result.pages += 1
            result.requests = api.requests_sent - requests_before
            result.cost = prices.posts(result.posts_read)
            if bar is not None:
                bar.update(n_read)
                if hasattr(bar, "set_postfix_str"):
                    bar.set_postfix_str(f"{result.requests} requests, ~{result.cost:.2f} {prices.currency}")
            if not next_token:
                result.status = "complete"
                break
            token = next_token  # an empty page with a next_token is followed like any other
    except UsageCapReached as exc:
        result.status = "usage_cap"
        result.message = f"{exc}. Kept the {result.posts_read} posts read; the next collect resumes here."
    except QueryError as exc:
        if not (resumed and token == run["next_token"]):
            store.set_run_status(run["id"], "interrupted")
            raise
        # The saved page token of the run being resumed was refused (X's tokens
        # are not meant to expire, but a changed query or plan can void them):
        # close the run, so the next collect starts afresh instead of failing alike.
        store.set_run_status(run["id"], "abandoned")
        raise QueryError(f"{exc}; this was the saved page of interrupted collection run {run['id']}, which is now "
                         "closed: run collect again to start it over") from None
    except BaseException:
        store.set_run_status(run["id"], "interrupted")
        raise
    finally:
        if bar is not None:
            bar.close()
        result.requests = api.requests_sent - requests_before
    store.set_run_status(run["id"], result.status)
    if result.status == "budget" and not result.message:
        result.message = (f"stopped at the budget of {max_posts} posts; run collect again with the same "
                          "query and window to continue")
    return result


def estimate(
    api: XApi,
    *,
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    archive: bool = False,
    max_posts: int | None = None,
    prices: Prices | None = None,
    now: datetime | None = None,
) -> Estimate:
    """Count the matching posts (counts endpoint) and price reading them. Reads no post."""
    prices = prices or Prices.from_env()
    _check_window(since, until, archive, now or datetime.now(timezone.utc))
    params: dict[str, Any] = {"query": query, "granularity": "day"}
    if since:
        params["start_time"] = _iso(since)
    if until:
        params["end_time"] = _iso(until)
    total, n_requests, token = 0, 0, None
    while True:
        page = api.counts(dict(params, next_token=token) if token else params, archive=archive)
        n_requests += 1
        meta = page.body.get("meta") if isinstance(page.body.get("meta"), Mapping) else {}
        # X renamed total_tweet_count to total_post_count; read either.
        value = meta.get("total_post_count", meta.get("total_tweet_count"))
        if value is None:
            value = sum(int(b.get("post_count", b.get("tweet_count", 0))) for b in _buckets(page.body))
        total += int(value)
        token = meta.get("next_token")
        if not token:
            break
    to_read = total if max_posts is None else min(total, max_posts)
    return Estimate(query, total, to_read, n_requests, n_requests * prices.per_counts_request,
                    prices.posts(to_read), prices.currency)


def _buckets(body: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    data = body.get("data")
    return [b for b in data if isinstance(b, Mapping)] if isinstance(data, list) else []
