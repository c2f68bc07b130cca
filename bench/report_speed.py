"""Report generation time and peak memory for N posts.

    python bench/report_speed.py N

Builds N posts by sampling and perturbing the shipped corpora
(bench/generate.py), stores them in a fresh SQLite store, then times `report` (classification, summary, charts, PDF, CSV and Parquet).
Prints one figure a line.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import corpus  # noqa: E402

from sentiment.classify import topic_model  # noqa: E402
from sentiment.pipeline import report  # noqa: E402
from sentiment.store import Store  # noqa: E402
from sentiment.topic import load_topic  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    topic = load_topic()
    posts = corpus(n)
    topic_model(topic)  # trained (or loaded) before timing
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "s.sqlite") as store:
            start = time.perf_counter()
            for i in range(0, n, 10_000):
                store.upsert(posts[i:i + 10_000], topic=topic.name)
            stored = time.perf_counter() - start
            del posts
            start = time.perf_counter()
            folder = report(store, topic, out_dir=Path(tmp) / "reports")
            took = time.perf_counter() - start
            pages = (folder / "report.pdf").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"posts: {n}")
    print(f"store_seconds: {stored:.1f}")
    print(f"report_seconds: {took:.1f}")
    print(f"report_pdf_bytes: {pages}")
    print(f"peak_rss_mb: {peak:.0f}")


if __name__ == "__main__":
    main()
