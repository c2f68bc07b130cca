"""Classification throughput against VADER's polarity_scores alone, in one run.

    python bench/speed.py [N]

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
    posts = corpus(n)
    model = topic_model(load_topic())
    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for post in posts:
        analyzer.polarity_scores(post.text)
    vader = time.perf_counter() - start
    print(f"posts: {n}")
    print(f"vader_alone_one_core_posts_per_s: {n / vader:,.0f}")
    for jobs in (1, 2):
        start = time.perf_counter()
        for _ in predict_posts(model, posts, n_jobs=jobs, batch_size=5000):
            pass
        ours = time.perf_counter() - start
        print(f"classify_{jobs}_core_posts_per_s: {n / ours:,.0f}")
        print(f"speed_ratio_classify_{jobs}_core_vs_vader_one_core: {vader / ours:.2f}")


if __name__ == "__main__":
    main()
