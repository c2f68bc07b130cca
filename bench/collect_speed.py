"""Collection throughput from the test suite's fake X API, and requests made versus the minimum.

    python bench/collect_speed.py [N]

Serves N posts from tests/fake_x_api.py on 127.0.0.1 (no faults), collects
them with the real tweepy client into a fresh SQLite store, and prints posts
stored per second and the requests made against the fewest possible
(N / 100, X's largest page).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_x_api import FakeXApi, make_posts  # noqa: E402

from sentiment.collect import collect  # noqa: E402
from sentiment.store import Store  # noqa: E402
from sentiment.xapi import XApi  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    now = datetime.now(timezone.utc)
    server = FakeXApi(posts=make_posts(n, now - timedelta(days=6), step=timedelta(days=5.9) / n)).start()
    try:
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.sqlite") as store:
            api = XApi(server.token, base_url=server.url)
            start = time.perf_counter()
            result = collect(store, api, query="bench -is:retweet", since=now - timedelta(days=6) - timedelta(seconds=1))
            elapsed = time.perf_counter() - start
            stored = store.count()
    finally:
        server.stop()
    print(f"posts: {n}")
    print(f"posts_stored: {stored}")
    print(f"posts_per_s: {stored / elapsed:,.0f}")
    print(f"requests: {result.requests} (minimum {math.ceil(n / 100)})")


if __name__ == "__main__":
    main()
