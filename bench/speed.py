"""Classification throughput against VADER's polarity_scores alone, in one run.

    python bench/speed.py [N]

Both are timed on the same N posts (the sample corpus, repeated with small
perturbations). VADER alone runs on one core; classification (features
including VADER, the model, and the per-post sentiment) runs as the library
runs it. Prints one figure a line.
"""

from __future__ import annotations

import json
import random
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.classify import predict_posts, topic_model
from sentiment.models import Post
from sentiment.topic import load_topic


def corpus(n: int) -> list[Post]:
    topic = load_topic()
    texts = []
    with topic.sample.open(encoding="utf-8") as handle:
        for line in handle:
            for p in json.loads(line)["data"]:
                texts.append((p.get("note_tweet", {}).get("text", p["text"]), p.get("lang")))
    rng = random.Random(0)
    out = []
    for i in range(n):
        text, lang = texts[i % len(texts)]
        if i >= len(texts):  # perturb repeats so caches cannot help
            words = text.split()
            rng.shuffle(words)
            text = " ".join(words) + f" #{i}"
        out.append(Post(id=str(i + 1), text=text, lang=lang))
    return out


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
