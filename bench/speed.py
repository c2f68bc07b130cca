"""Classification throughput against VADER's polarity_scores alone, in one run.

    python bench/speed.py [N] [--repeats 3]
    python bench/speed.py --texts FILE [FILE ...]   (CSV/TSV with a text column)

Both are timed on the same posts: N generated ones (bench/generate.py:
sampled and perturbed from the shipped corpora), or each distinct text of
the files given (real tweets, say). VADER alone runs on one core; classification (features
including VADER, the model, and the per-post sentiment) runs as the library
runs it. Prints one figure a line.
"""

from __future__ import annotations

import argparse
import csv
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


def texts_from(paths: list[str]) -> list[Post]:
    """Posts from CSV or TSV files with a ``text`` column (say, real tweets), each distinct text once."""
    texts: dict[str, None] = {}
    for path in paths:
        with open(path, encoding="utf-8", newline="") as handle:
            tsv = path.endswith(".tsv")  # tab-separated, quotes are part of the text
            for row in csv.DictReader(handle, delimiter="\t" if tsv else ",", quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL):
                if row.get("text"):
                    texts[row["text"]] = None
    return [Post(id=str(i), text=text) for i, text in enumerate(texts)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=20_000, help="generated posts (default 20000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, the fastest kept (default 3)")
    parser.add_argument("--texts", nargs="+", metavar="FILE", help="CSV/TSV files with a text column instead")
    args = parser.parse_args()
    posts = texts_from(args.texts) if args.texts else corpus(args.n)
    n, repeats = len(posts), args.repeats
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
    source = f"{len(args.texts)} files" if args.texts else "generated"
    print(f"posts: {n} ({source}; distinct texts: {len({p.text for p in posts})}), fastest of {repeats} runs each")
    print(f"vader_alone_one_core_posts_per_s: {n / vader:,.0f}")
    for jobs in (1, 2):
        print(f"classify_{jobs}_core_posts_per_s: {n / best[jobs]:,.0f}")
        print(f"speed_ratio_classify_{jobs}_core_vs_vader_one_core: {vader / best[jobs]:.2f}")


if __name__ == "__main__":
    main()
