"""Reports: charts as functions returning figures, and one function that writes files.

A report is a folder: PNG charts (``proportions.png`` first), ``report.pdf``,
``posts.csv`` and ``posts.parquet``, ``summary.json`` and ``summary.md``. It is written into a hidden temporary folder beside its
final place and renamed into place only when complete, so a failed run never
leaves half a report behind.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .charts import save_charts
from .classify import Prediction
from .describe import PostRow, Tally, describe, summary_paragraph
from .evaluate import Evaluation, evaluate
from .models import METRIC_FIELDS, Post
from .pdf import write_pdf
from .quantify import PostTotals
from .summarize import Summary, summarize_totals
from .topic import Topic

__all__ = ["ReportData", "build_report", "write_files", "write_report", "post_columns", "REPORT_FORMATS"]

#: The files a report can hold: charts, the PDF, the posts (CSV and Parquet), the summary.
REPORT_FORMATS = ("png", "pdf", "csv", "parquet", "json")

log = logging.getLogger(__name__)

#: Posts whose texts are read for themes, sub-themes, example posts and copies:
#: all of them up to this many, else a uniform random sample of this size.
TEXT_SAMPLE = 50_000


_METHOD_TEXT = {
    "acc": [
        "Shares are corrected for the model's measured errors (adjusted classify and",
        "count): the model's error rates between groups, measured by cross-",
        "validation on its labeled examples, are used to solve for the true mix that",
        "would produce the labels it gave. The 95% intervals come from a bootstrap",
        "that resamples both the posts and the labeled examples, so they include the",
        "uncertainty of the error rates. The plain count of labels is in summary.json",
        "as raw_share.",
    ],
    "pacc": ["Shares are corrected with the model's average probabilities (probabilistic",
             "adjusted classify and count), with bootstrap 95% intervals."],
    "cc": [
        "Shares are the fraction of posts the model puts in each group (classify and",
        "count); the model had no cross-validated error rates, so they are not corrected",
        "for its errors. The 95% intervals cover the sampling of posts only.",
    ],
}


def post_columns(group_ids: Iterable[str]) -> list[str]:
    """Columns of ``posts.csv``: classify's output, then the post's own fields."""
    return [
        "id", "label", "confidence", *[f"p_{g}" for g in group_ids], "sentiment",
        "created_at", "lang", "author_username", "is_reply", "is_repost", "is_quote", *METRIC_FIELDS, "text",
    ]


def _post_row(post: Post, pred: Prediction, group_ids: list[str]) -> list[Any]:
    return [
        post.id, pred.label, f"{pred.confidence:.4f}", *[f"{pred.probabilities.get(g, 0.0):.4f}" for g in group_ids],
        "" if pred.sentiment is None else f"{pred.sentiment:.4f}",
        post.created_at.isoformat().replace("+00:00", "Z") if post.created_at else "",
        post.lang or "", post.author_username or "", int(post.is_reply), int(post.is_repost), int(post.is_quote),
        *["" if getattr(post, m) is None else getattr(post, m) for m in METRIC_FIELDS], post.text,
    ]


def _summary_row(post: Post, pred: Prediction) -> PostRow:
    counts = [getattr(post, f) for f in ("like_count", "repost_count", "reply_count", "quote_count")]
    engagement = None if all(c is None for c in counts) else sum(c or 0 for c in counts)
    return PostRow(post.id, post.text, post.lang, post.created_at, post.author_username, pred.label,
                   pred.probabilities, engagement, post.impression_count, pred.sentiment)


def summary_markdown(doc: dict[str, Any], topic: Topic, rows: dict[str, PostRow]) -> str:
    """``summary.md``: the same summary for people."""
    lines = [f"# {topic.title}: what people say", "",
             f"{doc['window']['start']} to {doc['window']['end']} · {doc['n_posts']:,} posts", "", doc["summary"], "",
             "| group | share | 95% interval | posts labeled | share of engagement |", "|---|---|---|---|---|"]
    for g in topic.groups:
        d, reach = doc["groups"][g.id], doc["engagement_share"][g.id]
        eng = "–" if reach["engagement"] is None else f"{reach['engagement']:.0%}"
        lines.append(f"| {g.name} | {d['share']:.1%} | {d['ci'][0]:.1%}–{d['ci'][1]:.1%} | {d['n']:,} | {eng} |")
    for g in topic.groups:
        d = doc["groups"][g.id]
        lines += ["", f"## {g.name}", "", f"*{g.description}*", "",
                  "Themes: " + (", ".join(f"{t['phrase']} ({t['n_posts']})" for t in d["themes"]) or "none"), ""]
        if d["subthemes"]:
            lines.append("Sub-themes: " + ", ".join(f"{s['label']} ({s['size']})" for s in d["subthemes"]))
            lines.append("")
        for pid in d["examples"]:
            row = rows[pid]
            when = row.created_at.strftime("%Y-%m-%d %H:%M UTC") if row.created_at else ""
            text = " ".join(row.text.split())
            lines.append(f"> {text}  \n> — @{row.author or '?'}, {when}, post {pid}")
            lines.append("")
    copies = doc["duplicates"]
    lines += ["## Copies and campaigns", "",
              f"{copies['posts_in_copies']:,} posts in {len(copies['groups'])} groups of copies or near-copies "
              f"(counted {'once per group' if doc['copies_counted'] == 'once' else 'every time'}); "
              f"{doc['reposts_excluded']:,} reposts left out.", ""]
    for d in copies["groups"][:10]:
        lines.append(f"- {d['size']} posts by {d['authors']} accounts ({d['label']}): “{' '.join(d['text'].split())[:160]}”")
    lines += ["", "## Languages", "", "| language | posts | " + " | ".join(g.name for g in topic.groups) + " |",
              "|---|---|" + "---|" * len(topic.groups)]
    for lang, figures in doc["languages"].items():
        lines.append(f"| {lang} | {figures['n']:,} | " + " | ".join(f"{figures['shares'][g.id]:.0%}" for g in topic.groups)
                     + " |")
    return "\n".join(lines) + "\n"


def _final_folder(out_dir: Path, now: datetime) -> Path:
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    folder, n = out_dir / stamp, 2
    while folder.exists():
        folder, n = out_dir / f"{stamp}-{n}", n + 1
    return folder


@dataclass
class ReportData:
    """Everything a report shows, in memory: the summary document and its posts."""

    topic: Topic
    doc: dict[str, Any]
    rows: list[PostRow]
    summary: Summary
    methods: list[str]
    provenance: list[str]
    now: datetime


def build_report(
    topic: Topic,
    predictions: Iterable[tuple[Post, Prediction]],
    *,
    start: datetime,
    end: datetime,
    gold: dict[str, str] | None = None,
    calibration: tuple[Any, Any] | None = None,
    model_info: str = "",
    now: datetime | None = None,
    include_reposts: bool = False,
    copies: str = "all",
    provenance: Iterable[str] | None = None,
    on_post: Callable[[Post, Prediction], None] | None = None,
) -> ReportData:
    """Summarise classified posts: shares, themes, examples, timeline, reach, copies, paragraph.

    ``predictions`` is read once; ``on_post`` sees every post as it passes
    (reposts too), so a caller can stream them to a file. ``calibration`` is
    the model's out-of-fold ``(probabilities, true group indices)`` on its
    labeled examples, columns in the topic's group order; with it the shares
    are corrected for the model's error. Where ``gold`` labels are known for
    some posts, the classifier's accuracy on them is stated. Reposts are left
    out of shares and themes (and counted) unless ``include_reposts``;
    near-copies count every time (``copies="all"``) or once per group.
    """
    from . import __version__

    if copies not in ("all", "once"):
        raise ValueError(f"copies must be 'all' or 'once', got {copies!r}")
    now = now or datetime.now(timezone.utc)
    group_ids = topic.group_ids
    tally = Tally(group_ids, start, end)
    totals = PostTotals.of(np.zeros((0, len(group_ids))))
    chunk: list[list[float]] = []
    # Themes, examples and copies are read from a uniform sample of the posts
    # (all of them up to TEXT_SAMPLE); every count comes from every post.
    sample: list[tuple[int, PostRow]] = []
    pick = random.Random(0)
    seen = reposts = 0
    y_true: list[str] = []
    y_pred: list[str] = []
    for post, pred in predictions:
        if on_post is not None:
            on_post(post, pred)
        if post.is_repost and not include_reposts:
            reposts += 1
            continue
        row = _summary_row(post, pred)
        tally.add(row)
        chunk.append([pred.probabilities.get(g, 0.0) for g in group_ids])
        if len(chunk) == 10_000:
            totals, chunk = totals + PostTotals.of(np.asarray(chunk)), []
        if len(sample) < TEXT_SAMPLE:
            sample.append((seen, row))
        else:
            slot = pick.randrange(seen + 1)
            if slot < TEXT_SAMPLE:
                sample[slot] = (seen, row)
        seen += 1
        if gold and post.id in gold:
            y_true.append(gold[post.id])
            y_pred.append(pred.label)
    if chunk:
        totals = totals + PostTotals.of(np.asarray(chunk))
    sample.sort(key=lambda item: item[0])
    rows = [row for _, row in sample]
    sections = describe(rows, group_ids, start=start, end=end, tally=tally)
    if copies == "once":
        repeats = {pid for d in sections["duplicates"]["groups"] for pid in d["post_ids"][1:]}
        repeated = [[r.probabilities.get(g, 0.0) for g in group_ids] for r in rows if r.id in repeats]
        if repeated:
            totals = totals - PostTotals.of(np.asarray(repeated))
    cv_proba, cv_labels = calibration if calibration is not None else (None, None)
    summary = summarize_totals(totals, group_ids, cv_proba=cv_proba, cv_labels=cv_labels)
    # Gold labels of some posts (a shipped sample's): the model's agreement with them, scored as `evaluate` does.
    evaluation = evaluate(y_true, np.eye(len(group_ids))[[group_ids.index(p) for p in y_pred]], group_ids) \
        if y_true else None
    doc = _summary_json(topic, summary, start, end, evaluation, now, model_info)
    doc["summary"] = summary_paragraph(summary, sections, {g.id: g.name for g in topic.groups}, title=topic.title)
    for g in group_ids:
        doc["groups"][g].update(sections["groups"][g])
    doc.update({k: sections[k] for k in ("timeline", "engagement_share", "duplicates", "languages", "sentiment")})
    doc["reposts_excluded"] = reposts
    doc["copies_counted"] = copies
    doc["texts_read"] = {"posts": len(rows), "of": seen}
    methods = _methods_text(summary.method, model_info, evaluation, now, __version__)
    if len(rows) < seen:
        methods.insert(2, f"Themes, sub-themes, example posts and copies were read from a uniform random sample of "
                          f"{len(rows):,} of the {seen:,} posts; shares, the timeline, reach, languages and tone "
                          f"count every post.")
    return ReportData(topic, doc, rows, summary, methods, list(provenance or []), now)


def write_files(data: ReportData, folder: Path, formats: Iterable[str] | None = None) -> None:
    """Write a report's files into ``folder`` (``posts.csv``, if wanted, is already there)."""
    from . import __version__

    wanted = set(formats) if formats is not None else set(REPORT_FORMATS)
    doc, topic = data.doc, data.topic
    by_id = {r.id: r for r in data.rows}
    (folder / "summary.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(summary_markdown(doc, topic, by_id), encoding="utf-8")
    if "png" in wanted:
        save_charts(doc, topic, folder)
    if "pdf" in wanted:
        write_pdf(folder / "report.pdf", doc, topic, by_id, methods=data.methods, provenance=data.provenance,
                  now=data.now, version=__version__)
    if "parquet" in wanted and (folder / "posts.csv").exists():
        _csv_to_parquet(folder / "posts.csv", folder / "posts.parquet")


def write_posts_csv(path: Path, group_ids: list[str]) -> tuple[Any, Callable[[Post, Prediction], None]]:
    """Open ``posts.csv`` and return (file handle, a function that writes one post's row)."""
    handle = path.open("w", encoding="utf-8", newline="")
    writer = csv.writer(handle)
    writer.writerow(post_columns(group_ids))
    return handle, lambda post, pred: writer.writerow(_post_row(post, pred, group_ids))


def write_report(
    out_dir: str | Path,
    topic: Topic,
    predictions: Iterable[tuple[Post, Prediction]],
    *,
    start: datetime,
    end: datetime,
    formats: Iterable[str] | None = None,
    now: datetime | None = None,
    **options: Any,
) -> Path:
    """Write a dated report folder under ``out_dir`` and return its path.

    ``predictions`` is streamed once: posts go to ``posts.csv`` as they come.
    ``formats`` picks the files among ``png`` (charts), ``pdf``, ``csv``
    (posts.csv), ``parquet`` (posts.parquet, with csv) and ``json``
    (summary.json and summary.md, always written). Other options are those of
    :func:`build_report`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(timezone.utc)
    wanted = set(formats) if formats is not None else set(REPORT_FORMATS)
    tmp = out_dir / f".tmp-{now.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    tmp.mkdir()
    try:
        csv_path = tmp / "posts.csv" if "csv" in wanted else Path(os.devnull)  # the posts are read once either way
        handle, write_row = write_posts_csv(csv_path, topic.group_ids)
        with handle:
            data = build_report(topic, predictions, start=start, end=end, now=now, on_post=write_row, **options)
        write_files(data, tmp, wanted)
        final = _final_folder(out_dir, now)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("report written to %s", final)
    return final


def _summary_json(
    topic: Topic, summary: Summary, start: datetime, end: datetime, evaluation: Evaluation | None,
    now: datetime, model_info: str,
) -> dict[str, Any]:
    iso = lambda t: t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {
        "topic": topic.name,
        "title": topic.title,
        "generated_at": iso(now),
        "n_posts": summary.n_posts,
        "window": {"start": iso(start), "end": iso(end)},
        "shares_method": summary.method,
        "groups": {
            g.id: {
                "name": g.name,
                "share": summary.groups[g.id].share,
                "ci": list(summary.groups[g.id].ci),
                "raw_share": summary.groups[g.id].raw_share,
                "n": summary.groups[g.id].n,
            }
            for g in topic.groups
        },
        "model": model_info,
        "evaluation": None if evaluation is None else {
            "n_labeled": evaluation.n, "accuracy": evaluation.accuracy, "macro_f1": evaluation.macro_f1,
        },
    }


def _methods_text(method: str, model_info: str, evaluation: Evaluation | None, now: datetime,
                  version: str) -> list[str]:
    lines = [
        "Each post is classified by a stance model: word and character n-grams and VADER sentiment scores, "
        "into a logistic regression trained on the topic's labeled examples. " + model_info,
        " ".join(_METHOD_TEXT[method]),
    ]
    if evaluation is not None:
        lines.append(f"Accuracy on the {evaluation.n:,} posts of this report with gold labels: "
                     f"{evaluation.accuracy:.1%} (macro-F1 {evaluation.macro_f1:.2f}).")
    lines.append("Sentiment (tone) is VADER's compound score, given for English posts only: VADER is an English "
                 "lexicon. Stance and tone differ: a post can welcome the event in angry words.")
    lines.append(f"Generated {now.strftime('%Y-%m-%d %H:%M UTC')} by sentiment {version}.")
    return lines


def _csv_to_parquet(csv_path: Path, parquet_path: Path) -> None:
    """posts.parquet: the same table as posts.csv, with typed columns (ids stay text), read in blocks."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with csv_path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    # Every column typed up front: a streaming reader would infer types from its first block alone.
    floats = {"confidence", "sentiment", *[c for c in header if c.startswith("p_")]}
    ints = {"is_reply", "is_repost", "is_quote", *METRIC_FIELDS}
    types = {c: pa.float64() if c in floats else pa.int64() if c in ints else pa.string() for c in header}
    types["created_at"] = pa.timestamp("us", tz="UTC")
    reader = pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(block_size=16 << 20),
                            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
                            parse_options=pacsv.ParseOptions(newlines_in_values=True))
    with pq.ParquetWriter(parquet_path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
