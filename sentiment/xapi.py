"""The X API v2 client: tweepy does the HTTP, this module adds the discipline.

tweepy (4.x) sets no timeout, never retries a server error or a dropped
connection, retries a 429 at once when the reset header is missing or past,
hard-codes its host, and logs the ``Authorization`` header at debug level.
:class:`XApi` wraps a real ``tweepy.Client`` and fixes each of these:

* every request has connect and read timeouts;
* server errors (5xx), timeouts and dropped connections are retried with
  exponential backoff and jitter (``tenacity``), a bounded number of times,
  then raise :class:`RetriesExhausted`;
* a 429 waits until ``x-rate-limit-reset`` (corrected for the difference
  between our clock and the server's ``Date``), or backs off when the header
  is missing or already past; a usage-cap 429 raises :class:`UsageCapReached`;
* full-archive requests are paced to at most one a second;
* the base URL is a setting (``SENTIMENT_X_API_URL``), for proxies and for
  tests against a fake server;
* the bearer token is redacted from every log record of tweepy, urllib3 and
  requests, whatever the log level.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tweepy
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from .errors import CollectError, CredentialsError, QueryError, RetriesExhausted, UsageCapReached

__all__ = ["XApi", "Page", "bearer_token_from_env", "redact_secret", "DEFAULT_API_URL"]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.x.com"
_TWEEPY_HOST = "https://api.twitter.com"  # what tweepy puts in front of every route
_TOKEN_ENV = ("X_BEARER_TOKEN", "TWITTER_BEARER_TOKEN")
_RETRYABLE = (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout,
              requests.exceptions.ChunkedEncodingError)
# Loggers that may print request headers or URLs at debug level.
_NOISY_LOGGERS = ("tweepy", "tweepy.client", "urllib3", "urllib3.connectionpool", "requests", "requests_oauthlib",
                  "oauthlib")
# Ours that word HTTP failures (whose text comes from the server).
_OUR_LOGGERS = ("sentiment", "sentiment.xapi", "sentiment.collect", "sentiment.schedule", "sentiment.cli")
_BEARER_RE = re.compile(r"(Bearer\s+)[A-Za-z0-9%._~+/=-]+")


def bearer_token_from_env() -> str | None:
    """The bearer token from ``X_BEARER_TOKEN`` (or ``TWITTER_BEARER_TOKEN``)."""
    for name in _TOKEN_ENV:
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    return None


#: Secrets registered by :func:`redact_secret`, scrubbed from our own messages too.
_SECRETS: set[str] = set()


def scrub(text: str) -> str:
    """``text`` without any registered secret or bearer header (a server may echo either back)."""
    for secret in _SECRETS:
        text = text.replace(secret, "[REDACTED]")
    return _BEARER_RE.sub(r"\1[REDACTED]", text)


class _RedactSecret(logging.Filter):
    """Rewrites a log record so that neither the secret nor any bearer header survives."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: drop its arguments rather than risk printing them
            message = str(record.msg)
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def redact_secret(secret: str) -> None:
    """Redact ``secret`` from every record of the HTTP libraries' loggers and ours, at every level.

    Filters sit on the emitting loggers, so they apply before any handler
    (ours or the user's) sees the record. Our own error messages go through
    :func:`scrub` as well: an error body or a connection error may carry the
    header back. Installing twice is harmless.
    """
    _SECRETS.add(secret)
    for name in (*_NOISY_LOGGERS, *_OUR_LOGGERS):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecret) and f.secret == secret for f in logger.filters):
            logger.addFilter(_RedactSecret(secret))


class _RoutingSession(requests.Session):
    """A requests session that sends tweepy's requests to our base URL, with timeouts."""

    def __init__(self, base_url: str, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url = str(url)
        if url.startswith(_TWEEPY_HOST):
            url = self.base_url + url[len(_TWEEPY_HOST):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class Page:
    """One API response: its JSON, where it came from and when."""

    url: str
    status: int
    body: Mapping[str, Any]
    retrieved_at: datetime


def _problem(response: Any) -> Mapping[str, Any]:
    try:
        body = response.json()
    except Exception:
        return {}
    return body if isinstance(body, Mapping) else {}


def _detail(exc: tweepy.HTTPException) -> str:
    body = _problem(exc.response)
    text = str(body.get("detail") or body.get("title") or exc.response.reason or "")
    # X's 400s say "One or more parameters to your request was invalid." in
    # `detail` and what was wrong ("Unknown operator ...") in `errors`.
    reasons = [str(m) for m in exc.api_messages if m and str(m) not in text]
    if reasons:
        text = f"{text}: {'; '.join(reasons)}" if text else "; ".join(reasons)
    return scrub(text)[:500]


def _short(exc: BaseException) -> str:
    """An exception's message without the whole request URL a connection error repeats (and cut short)."""
    text = re.sub(r"(https?://[^/\s'\"]+)/[^\s'\"]*", r"\1/...", str(exc))
    return text if len(text) <= 300 else text[:297] + "..."


def _is_usage_cap(body: Mapping[str, Any]) -> bool:
    return str(body.get("type", "")).endswith("usage-capped") or body.get("title") == "UsageCapExceeded"


class XApi:
    """X API v2 search and counts through tweepy, with timeouts, retries and pacing.

    ``sleep`` and ``clock`` are injectable so waits can be tested without waiting.
    """

    #: Longest single wait for a rate-limit window (X's windows are 15 minutes).
    MAX_RATE_WAIT = 16 * 60.0

    def __init__(
        self,
        bearer_token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        max_rate_limit_waits: int = 20,
        archive_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        token = bearer_token or bearer_token_from_env()
        if not token:
            raise CredentialsError("no X API bearer token: set X_BEARER_TOKEN (or TWITTER_BEARER_TOKEN)")
        redact_secret(token)
        self.base_url = (base_url or os.environ.get("SENTIMENT_X_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_rate_limit_waits = max_rate_limit_waits
        self.archive_interval = archive_interval
        self._sleep = sleep
        self._clock = clock
        self._last_archive_request = float("-inf")
        self.requests_sent = 0
        self._client = tweepy.Client(bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False)
        self._client.session = _RoutingSession(self.base_url, timeout)

    def __repr__(self) -> str:  # never show the token
        return f"XApi(base_url={self.base_url!r})"

    # -- endpoints -------------------------------------------------------------
    def search(self, params: Mapping[str, Any], *, archive: bool = False) -> Page:
        """One page of recent (last 7 days) or full-archive search."""
        method = self._client.search_all_tweets if archive else self._client.search_recent_tweets
        return self._call(method, params, archive)

    def counts(self, params: Mapping[str, Any], *, archive: bool = False) -> Page:
        """One page of post counts for a query."""
        method = self._client.get_all_tweets_count if archive else self._client.get_recent_tweets_count
        return self._call(method, params, archive)

    # -- the discipline ----------------------------------------------------------
    def _call(self, method: Callable[..., Any], params: Mapping[str, Any], archive: bool) -> Page:
        query = params["query"]
        rest = {k: v for k, v in params.items() if k != "query"}

        def before_sleep(state: Any) -> None:
            log.warning("X API request failed (%s); retry %d of %d in %.1f s",
                        scrub(_short(state.outcome.exception())), state.attempt_number, self.max_retries - 1,
                        state.next_action.sleep if state.next_action else 0)

        retrying = Retrying(
            retry=retry_if_exception_type(_RETRYABLE),
            wait=wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max),
            stop=stop_after_attempt(self.max_retries),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._rate_limited(method, query, rest, archive)
        except _RETRYABLE as exc:
            raise RetriesExhausted(
                f"the X API did not answer after {self.max_retries} attempts; last error: {scrub(_short(exc))}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise CollectError(f"the X API sent a response that is not JSON (HTTP {response.status_code})") from None
        if not isinstance(body, Mapping):
            raise CollectError("the X API sent JSON that is not an object")
        return Page(response.url, response.status_code, body, datetime.now(timezone.utc))

    def _pace(self, archive: bool) -> None:
        if not archive:
            return
        wait = self._last_archive_request + self.archive_interval - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._last_archive_request = self._clock()

    def _rate_limited(self, method: Callable[..., Any], query: str, params: Mapping[str, Any], archive: bool) -> Any:
        fallback = 15.0
        for _ in range(self.max_rate_limit_waits + 1):
            self._pace(archive)
            self.requests_sent += 1
            try:
                return method(query, **params)
            except tweepy.TooManyRequests as exc:
                body = _problem(exc.response)
                if _is_usage_cap(body):
                    raise UsageCapReached(f"X usage cap reached: {_detail(exc)}") from None
                wait = self._rate_limit_wait(exc.response)
                if wait is None:
                    wait, fallback = fallback, min(fallback * 2, self.MAX_RATE_WAIT)
                log.warning("rate limited by the X API; waiting %.0f s before the next request", wait)
                self._sleep(wait)
            except tweepy.Unauthorized as exc:
                raise CredentialsError(
                    f"the X API rejected the bearer token ({_detail(exc)}); set X_BEARER_TOKEN to a valid app token"
                ) from None
            except tweepy.Forbidden as exc:
                raise CollectError(f"the X API refused the request (403): {_detail(exc)}") from None
            except tweepy.BadRequest as exc:
                raise QueryError(f"the X API rejected the request (400): {_detail(exc)}") from None
            except tweepy.NotFound as exc:
                raise CollectError(f"the X API endpoint was not found (404): {_detail(exc)}") from None
            except tweepy.HTTPException as exc:
                if isinstance(exc, tweepy.TwitterServerError):
                    raise
                raise CollectError(f"the X API answered HTTP {exc.response.status_code}: {_detail(exc)}") from None
        raise CollectError(f"still rate limited after {self.max_rate_limit_waits} waits; try again later")

    def _rate_limit_wait(self, response: Any) -> float | None:
        """Seconds until the rate-limit window resets, or None when the header is no help."""
        try:
            reset = float(response.headers["x-rate-limit-reset"])
        except (KeyError, TypeError, ValueError):
            return None
        try:  # measure "now" on the server's clock, so our clock's skew does not matter
            now = parsedate_to_datetime(response.headers["date"]).timestamp()
        except (KeyError, TypeError, ValueError, IndexError):
            now = self._clock()
        wait = reset - now + 1.0
        if wait <= 1.0:
            return None  # already past: the window should be open, but X said 429; back off instead
        return min(wait, self.MAX_RATE_WAIT)
