"""A small fake of the X API v2 on 127.0.0.1, for tests of the real tweepy client.

It serves recent and full-archive search and counts with the API's semantics
(newest first; start_time inclusive; end_time, since_id and until_id
exclusive; next_token pagination; includes.users), and injects faults from a
queue: server errors, rate limits with and without reset headers, the usage
cap, dropped connections, slow answers, errors inside a 200, empty pages.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

EPOCH_MS = 1288834974657


def snowflake(moment: datetime, seq: int = 0) -> str:
    return str(((int(moment.timestamp() * 1000) - EPOCH_MS) << 22) | seq)


def make_posts(n: int, start: datetime, step: timedelta = timedelta(minutes=7), prefix: str = "post") -> list[dict]:
    """``n`` API post objects, one every ``step`` from ``start``, by three authors."""
    posts = []
    for i in range(n):
        moment = start + i * step
        posts.append({
            "id": snowflake(moment, i % 4096), "text": f"{prefix} {i} about the declaration",
            "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "author_id": str(100 + i % 3), "lang": "en",
            "edit_history_tweet_ids": [snowflake(moment, i % 4096)],
            "public_metrics": {"retweet_count": i % 5, "reply_count": 0, "like_count": i % 11, "quote_count": 0,
                               "impression_count": 10 * i},
        })
    return posts


USERS = [{"id": str(100 + k), "username": f"author{k}", "name": f"Author {k}"} for k in range(3)]


@dataclass
class Request:
    path: str
    params: dict[str, str]
    authorization: str | None


@dataclass
class FakeXApi:
    token: str = "test-token"
    posts: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=lambda: list(USERS))
    faults: list[dict] = field(default_factory=list)
    post_spelling: bool = False  # answer with includes.posts / post_count, X's newer names
    clock_offset: float = 0.0  # the server's clock minus ours, to test skew
    slow_every: float = 0.0  # seconds to wait before every answer
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the HTTP side ---------------------------------------------------------
    def start(self) -> FakeXApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return formatdate(time.time() + api.clock_offset, usegmt=True)

            def do_GET(self) -> None:
                api.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def send(self, handler: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        try:
            handler.send_response(status)
            content_type = "application/problem+json" if status >= 400 else "application/json"
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(handler.path)
        params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        with self.lock:
            self.requests.append(Request(parsed.path, params, handler.headers.get("Authorization")))
            fault = self.faults.pop(0) if self.faults else None
        if self.slow_every:
            time.sleep(self.slow_every)
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self.send(handler, 401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                            "detail": "Unauthorized"})
        if fault:
            kind = fault["kind"]
            if kind == "status":
                body = fault.get("body") or {"title": "Service Unavailable", "status": fault["code"],
                                             "detail": "try later"}
                return self.send(handler, fault["code"], body)
            if kind == "rate_limit":
                headers = {}
                if fault.get("reset") is not None:
                    headers["x-rate-limit-reset"] = str(int(time.time() + self.clock_offset + fault["reset"]))
                    headers["x-rate-limit-remaining"] = "0"
                return self.send(handler, 429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                                                "type": "about:blank", "status": 429}, headers)
            if kind == "usage_cap":
                return self.send(handler, 429, {"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly "
                                                "product cap", "type": "https://api.twitter.com/2/problems/usage-capped",
                                                "period": "Monthly", "scope": "Product"})
            if kind == "drop":
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return None
            if kind == "slow":
                time.sleep(fault["seconds"])
        if parsed.path in ("/2/tweets/search/recent", "/2/tweets/search/all"):
            return self.search(handler, params, fault)
        if parsed.path in ("/2/tweets/counts/recent", "/2/tweets/counts/all"):
            return self.counts(handler, params)
        return self.send(handler, 404, {"title": "Not Found Error", "detail": parsed.path})

    # -- the API semantics -------------------------------------------------------
    def matching(self, params: dict[str, str]) -> list[dict]:
        def t(value: str) -> datetime:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))

        out = []
        for post in self.posts:
            created = t(post["created_at"])
            if "start_time" in params and created < t(params["start_time"]):
                continue
            if "end_time" in params and created >= t(params["end_time"]):
                continue
            if "since_id" in params and int(post["id"]) <= int(params["since_id"]):
                continue
            if "until_id" in params and int(post["id"]) >= int(params["until_id"]):
                continue
            out.append(post)
        return sorted(out, key=lambda p: int(p["id"]), reverse=True)

    def search(self, handler: BaseHTTPRequestHandler, params: dict[str, str], fault: dict | None) -> None:
        size = int(params.get("max_results", 10))
        if not 10 <= size <= 100:
            return self.send(handler, 400, {"title": "Invalid Request", "detail": "max_results must be 10..100",
                                            "errors": [{"message": "max_results"}]})
        # Like X's, a next_token is a cursor anchored on a post id (pages go on below it),
        # so posts that arrive while a run pages through do not shift its pages.
        everything = self.matching(params)
        if "next_token" in params:
            cursor = int(base64.b64decode(params["next_token"]).decode())
            everything = [p for p in everything if int(p["id"]) < cursor]
        chunk = everything[:size]
        if fault and fault["kind"] == "empty":
            chunk = []  # an empty page that still points onwards
        body: dict[str, Any] = {"meta": {"result_count": len(chunk)}}
        if chunk:
            author_ids = {p["author_id"] for p in chunk}
            body["data"] = chunk
            body["includes"] = {"users": [u for u in self.users if u["id"] in author_ids]}
            if self.post_spelling:
                body["includes"]["posts"] = []
            body["meta"].update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
        if len(everything) > len(chunk):
            cursor = int(chunk[-1]["id"]) if chunk else int(everything[0]["id"]) + 1
            body["meta"]["next_token"] = base64.b64encode(str(cursor).encode()).decode()
        if fault and fault["kind"] == "errors":
            body["errors"] = [{"value": "123", "detail": "Could not find user with id: [123].",
                               "title": "Not Found Error", "resource_type": "user", "parameter": "id",
                               "type": "https://api.twitter.com/2/problems/resource-not-found"}]
        return self.send(handler, 200, body)

    def counts(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        posts = self.matching(params)
        by_day: dict[str, int] = {}
        for p in posts:
            by_day[p["created_at"][:10]] = by_day.get(p["created_at"][:10], 0) + 1
        name = "post_count" if self.post_spelling else "tweet_count"
        data = [{"start": f"{day}T00:00:00.000Z", "end": f"{day}T23:59:59.999Z", name: n}
                for day, n in sorted(by_day.items())]
        return self.send(handler, 200, {"data": data, "meta": {f"total_{name}": len(posts)}})

    # -- for assertions ----------------------------------------------------------
    def search_requests(self) -> list[Request]:
        return [r for r in self.requests if "/search/" in r.path]
