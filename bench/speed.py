"""Classification throughput against VADER's polarity_scores alone, in one run.

    python bench/speed.py [N] [REPEATS]

Both are timed on the same N posts (bench/generate.py: sampled and
perturbed from the shipped corpora). VADER alone runs on one core; classification (features
including VADER, the model, and the per-post sentiment) runs as the library
runs it. Prints one figure a line.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.classify import predict_posts, topic_model
from sentiment.models import Post
from sentiment.topic import load_topic

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402


def corpus(n: int) -> list[Post]:
    """N benchmark posts, sampled and perturbed from the shipped corpora (bench/generate.py)."""
    return [Post(**record) for record in generate(n)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    posts = corpus(n)
    topic = load_topic()
    topic_model(topic)  # trained and cached before any timing
    analyzer = SentimentIntensityAnalyzer()
    # Each is timed `repeats` times, interleaved, and the fastest kept (as
    # timeit does): a shared machine only ever makes a run slower.
    best = {"vader": float("inf"), 1: float("inf"), 2: float("inf")}
    for _ in range(repeats):
        start = time.perf_counter()
        for post in posts:
            analyzer.polarity_scores(post.text)
        best["vader"] = min(best["vader"], time.perf_counter() - start)
        for jobs in (1, 2):
            # A fresh model each time: nothing remembered from the run before.
            model = topic_model(topic)
            start = time.perf_counter()
            for _ in predict_posts(model, posts, n_jobs=jobs):
                pass
            best[jobs] = min(best[jobs], time.perf_counter() - start)
    vader = best["vader"]
    print(f"posts: {n} (distinct texts: {len({p.text for p in posts})}), fastest of {repeats} runs each")
    print(f"vader_alone_one_core_posts_per_s: {n / vader:,.0f}")
    for jobs in (1, 2):
        print(f"classify_{jobs}_core_posts_per_s: {n / best[jobs]:,.0f}")
        print(f"speed_ratio_classify_{jobs}_core_vs_vader_one_core: {vader / best[jobs]:.2f}")


if __name__ == "__main__":
    main()
