"""Generate N posts for benchmarks by sampling and perturbing the shipped corpora.

    python bench/generate.py N OUT.parquet   (or OUT.jsonl for X API v2 pages)

Texts come from the topic's sample corpus, training examples and held-out
set; each generated post perturbs one (drops, repeats and swaps words, adds
or removes hashtags, mentions, emoji and links), so texts repeat no more
than real conversations do. Ids are X-style snowflakes in time order, times
follow the topic's window with a daily rhythm, authors are drawn from a
pool with heavy-tailed activity, engagement from heavy-tailed counts, and
one post in ten is a repost. Written by the project for benchmarks only:
not real posts.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import timedelta, timezone
from pathlib import Path

from sentiment.topic import load_topic

HASHTAGS = ["#ParisDeclaration", "#Ukraine", "#CoalitionOfTheWilling", "#Paris", "#NATO", "#Europe", "#peace",
            "#StandWithUkraine", "#WW3", "#security", "#Україна", "#Ukraina", "#Ucrania", "#Ukraine🇺🇦"]
EMOJI = ["🇺🇦", "👏", "🤡", "🙏", "💪", "😂", "🙄", "🔥", "🇪🇺", "🇫🇷", "👀", "💙💛", "🤷", "📄"]
_EPOCH_MS = 1288834974657


def base_texts() -> list[tuple[str, str | None]]:
    topic = load_topic()
    texts: list[tuple[str, str | None]] = []
    with topic.sample.open(encoding="utf-8") as handle:
        for line in handle:
            for p in json.loads(line)["data"]:
                texts.append((p.get("note_tweet", {}).get("text", p["text"]), p.get("lang")))
    for path in (topic.examples, topic.heldout):
        with path.open(encoding="utf-8", newline="") as handle:
            texts += [(r["text"], r.get("lang") or None) for r in csv.DictReader(handle)]
    return texts


def perturb(text: str, rng: random.Random, pool: list[tuple[str, str | None]]) -> str:
    words = text.split()
    for _ in range(rng.randrange(4)):
        if not words:
            break
        op, i = rng.random(), rng.randrange(len(words))
        if op < 0.3:
            del words[i]
        elif op < 0.5:
            words.insert(i, words[i])
        elif op < 0.7:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
        else:  # a word from another post: new word pairs
            other = rng.choice(pool)[0].split()
            if other:
                words.insert(i, rng.choice(other))
    if rng.random() < 0.3:
        words.append(rng.choice(HASHTAGS))
    if rng.random() < 0.25:
        words.append(rng.choice(EMOJI) * rng.randint(1, 3))
    if rng.random() < 0.15:
        words.insert(0, f"@user{rng.randrange(50_000)}")
    if rng.random() < 0.1:
        words.append(f"https://t.co/{rng.getrandbits(40):010x}")
    return " ".join(words) or text


def generate(n: int, seed: int = 0):
    """Yield n post dicts (flat, the layout `sentiment export` writes), oldest first."""
    topic = load_topic()
    rng = random.Random(seed)
    pool = base_texts()
    span = (topic.end - topic.start).total_seconds()
    # Times with a daily rhythm: more posts in European daytime.
    offsets = []
    while len(offsets) < n:
        t = rng.uniform(0, span)
        hour = (topic.start + timedelta(seconds=t)).hour
        if rng.random() < (0.25 if hour < 6 else 1.0):
            offsets.append(t)
    offsets.sort()
    authors = max(10, n // 4)
    for i, offset in enumerate(offsets):
        created = topic.start + timedelta(seconds=offset)
        ms = int(created.timestamp() * 1000)
        post_id = str(((ms - _EPOCH_MS) << 22) | (i % (1 << 22)))
        text, lang = rng.choice(pool)
        author = int(authors * rng.paretovariate(1.2)) % authors
        repost = rng.random() < 0.1
        followers = int(rng.paretovariate(1.1) * 50)
        yield {
            "id": post_id,
            "created_at": created.astimezone(timezone.utc),
            "lang": lang,
            "author_id": str(10_000 + author),
            "author_username": f"user{author}",
            "author_name": f"User {author}",
            "author_followers": followers,
            "conversation_id": post_id,
            "is_reply": rng.random() < 0.2,
            "is_repost": repost,
            "is_quote": rng.random() < 0.05,
            "like_count": int(rng.paretovariate(1.5)) - 1 + followers // 200,
            "repost_count": int(rng.paretovariate(2.0)) - 1,
            "reply_count": int(rng.paretovariate(2.0)) - 1,
            "quote_count": int(rng.paretovariate(3.0)) - 1,
            "impression_count": followers * rng.randint(1, 20),
            "text": ("RT @user: " + text) if repost else perturb(text, rng, pool),
        }


def write(n: int, out: Path, seed: int = 0) -> Path:
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sentiment.pipeline import _parquet_schema

        schema = _parquet_schema()
        with pq.ParquetWriter(out, schema) as writer:
            rows = []
            for record in generate(n, seed):
                rows.append(record)
                if len(rows) == 50_000:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    else:  # JSON lines, one flat post a line
        with out.open("w", encoding="utf-8") as handle:
            for record in generate(n, seed):
                record["created_at"] = record["created_at"].isoformat().replace("+00:00", "Z")
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    write(int(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {sys.argv[1]} posts to {sys.argv[2]}")
