"""The main jobs, each a plain function: run, report, classify a file, export.

These compose the stages (import, classify, summarise, report). They print
nothing; long steps report through an optional ``progress`` factory, called
as ``progress(description, total, unit)`` and returning an object with
``update(n)`` and ``close()`` (a ``tqdm`` bar fits; the CLI passes one).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .classify import (
    StanceClassifier,
    calibration,
    load_examples,
    load_model,
    predict_posts,
    save_model,
    topic_model,
)
from .evaluate import Evaluation, evaluate
from .errors import InputError, ModelError, SentimentError
from .importers import PARALLEL_FILE_BYTES, ImportResult, Rejection, import_file, read_posts
from .models import Post
from .parallel import PARALLEL_FROM
from .report import write_report
from .store import Store
from .topic import Topic, load_topic

__all__ = [
    "run", "report", "import_files", "classify_file", "export_posts", "load_gold", "RunResult",
    "train", "evaluate_examples", "model_for", "checked_model",
]


class Bar(Protocol):
    def update(self, n: int) -> Any: ...
    def close(self) -> Any: ...


ProgressFactory = Callable[[str, "int | None", str], Bar]


@dataclass
class RunResult:
    """What :func:`run` did: the imports and the report folder it wrote."""

    report: Path
    n_posts: int
    imports: list[ImportResult] = field(default_factory=list)


@contextmanager
def _stage(progress: ProgressFactory | None, desc: str, total: int | None, unit: str) -> Iterator[Callable[[int], Any] | None]:
    """One long step: yields the progress update function (None when quiet) and closes the bar."""
    if progress is None:
        yield None
        return
    bar = progress(desc, total, unit)
    try:
        yield bar.update
    finally:
        bar.close()


def load_gold(path: str | Path) -> dict[str, str]:
    """Gold labels of posts: a CSV with ``id`` and ``label`` columns."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"id", "label"} <= set(reader.fieldnames or []):
                raise InputError(path, "gold labels need 'id' and 'label' columns", 1)
            return {row["id"].strip(): row["label"].strip() for row in reader}
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None


def _model_info(topic: Topic, model: StanceClassifier) -> str:
    source = topic.examples.name if topic.examples else "a given file"
    info = f"Model: StanceClassifier(C={model.C}) trained on {source}"
    if getattr(model, "cv_proba_", None) is not None:
        classes = [str(c) for c in model.classes_]
        cv = evaluate(np.asarray(classes)[model.cv_labels_], model.cv_proba_, classes)
        info += (f" ({len(model.cv_labels_):,} examples; {model.cv_folds_}-fold cross-validated accuracy "
                 f"{cv.accuracy:.1%}, macro-F1 {cv.macro_f1:.2f})")
    return info + "."


def report(
    store: Store,
    topic: Topic,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    out_dir: str | Path = "reports",
    model: StanceClassifier | None = None,
    formats: Iterable[str] | None = None,
    copies: str = "all",
    include_reposts: bool = False,
    progress: ProgressFactory | None = None,
) -> Path:
    """Classify the stored posts of a topic in ``[since, until)`` and write a report.

    The window defaults to the topic's. Returns the report folder.
    """
    start, end = since or topic.start, until or topic.end
    if end <= start:
        raise SentimentError(f"the window is empty: --until ({end.isoformat()}) is not after --since ({start.isoformat()})")
    model = model or topic_model(topic)
    gold = load_gold(topic.sample_labels) if topic.sample_labels and topic.sample_labels.is_file() else None
    count = store.count(topic.name, start, end)
    with _stage(progress, "classifying", count, "posts") as update:
        predictions = predict_posts(model, store.posts(topic.name, start, end, raw=False), progress=update,
                                    n_jobs=-1 if count >= PARALLEL_FROM else None)
        return write_report(out_dir, topic, predictions, start=start, end=end, gold=gold,
                            calibration=calibration(model, topic.group_ids), model_info=_model_info(topic, model),
                            formats=formats, copies=copies, include_reposts=include_reposts,
                            provenance=store.provenance())


def import_files(
    store: Store,
    paths: Iterable[str | Path],
    *,
    topic: Topic | None = None,
    strict: bool = False,
    progress: ProgressFactory | None = None,
) -> Iterator[ImportResult]:
    """Import files one by one (each all or nothing), yielding each file's result."""
    for path in paths:
        size = os.path.getsize(path) if os.path.isfile(path) else None
        with _stage(progress, f"importing {Path(path).name}", size, "B") as update:
            yield import_file(store, path, topic=topic.name if topic else None, strict=strict, progress=update)


def run(
    *,
    topic: str | Path | Topic | None = None,
    store: str | Path | None = None,
    inputs: Iterable[str | Path] | None = None,
    out_dir: str | Path = "reports",
    model: str | Path | None = None,
    progress: ProgressFactory | None = None,
) -> RunResult:
    """The main job: import posts, classify them and write a report.

    With no ``inputs`` it imports the topic's shipped sample corpus, so it
    works offline with no X account. Importing is an upsert: running it again
    stores nothing twice.
    """
    topic = topic if isinstance(topic, Topic) else load_topic(topic)
    paths = list(inputs) if inputs else []
    if not paths:
        if topic.sample is None or not topic.sample.is_file():
            raise SentimentError(f"topic {topic.name!r} ships no sample corpus; give files to import")
        paths = [topic.sample]
    with Store(store) as db:
        imports = list(import_files(db, paths, topic=topic, progress=progress))
        folder = report(db, topic, out_dir=out_dir, model=model_for(topic, model), progress=progress)
        n_posts = db.count(topic.name, topic.start, topic.end)
    return RunResult(folder, n_posts, imports)


def _atomic_writer(output: Path) -> tuple[Path, Callable[[], None]]:
    if output.is_dir():
        raise InputError(output, "is a folder; give the output a file name")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(output.parent, f"cannot create the folder: {exc.strerror or exc}") from None
    tmp = output.with_name(f".{output.name}.tmp{os.getpid()}")
    return tmp, lambda: os.replace(tmp, output)


def classify_file(
    input: str | Path,
    output: str | Path,
    *,
    topic: str | Path | Topic | None = None,
    model: StanceClassifier | None = None,
    progress: ProgressFactory | None = None,
) -> tuple[int, list[Rejection]]:
    """Classify every post of an importable file into ``output`` (CSV).

    Columns: ``id,label,confidence``, ``p_<group>`` for each group and
    ``sentiment`` (VADER compound, English posts only). Returns
    the number of posts written and the rejected records.
    """
    if not Path(input).is_file():
        raise InputError(input, "is a folder, not a file" if Path(input).is_dir() else "no such file")
    if model is None:
        model = topic_model(topic if isinstance(topic, Topic) else load_topic(topic))
    classes = [str(c) for c in model.classes_]
    output = Path(output)
    rejected: list[Rejection] = []

    def posts() -> Iterator[Post]:
        # Read in this process: the classification workers have the cores.
        for _, item in read_posts(input, n_jobs=1):
            if isinstance(item, Rejection):
                rejected.append(item)
            else:
                yield item

    tmp, commit = _atomic_writer(output)
    n = 0
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "label", "confidence", *[f"p_{c}" for c in classes], "sentiment"])
            with _stage(progress, "classifying", None, "posts") as update:
                # Larger files (about 20,000 posts and up) are classified on every core.
                jobs = -1 if Path(input).stat().st_size >= PARALLEL_FILE_BYTES else None
                for post, pred in predict_posts(model, posts(), progress=update, n_jobs=jobs):
                    writer.writerow([post.id, pred.label, f"{pred.confidence:.4f}",
                                     *[f"{pred.probabilities[c]:.4f}" for c in classes],
                                     "" if pred.sentiment is None else f"{pred.sentiment:.4f}"])
                    n += 1
        if n == 0 and rejected:
            first = rejected[0]
            raise InputError(input, f"no post could be classified: all {len(rejected)} were unusable; the first, "
                             f"{first.problem}", first.line)
        commit()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n, rejected


#: Fields of an exported post, in order; the same names import reads back.
EXPORT_FIELDS = [
    "id", "created_at", "lang", "author_id", "author_username", "author_name", "author_followers",
    "conversation_id", "is_reply", "is_repost", "is_quote",
    "like_count", "repost_count", "reply_count", "quote_count", "impression_count", "text",
]


def _export_record(post: Post) -> dict[str, Any]:
    record = asdict(post)
    record.pop("raw")
    record["created_at"] = post.created_at.isoformat().replace("+00:00", "Z") if post.created_at else None
    return {k: record[k] for k in EXPORT_FIELDS}


def _parquet_schema() -> Any:
    import pyarrow as pa

    ints = ("author_followers", "like_count", "repost_count", "reply_count", "quote_count", "impression_count")
    flags = ("is_reply", "is_repost", "is_quote")
    fields = []
    for name in EXPORT_FIELDS:
        kind = (pa.timestamp("us", tz="UTC") if name == "created_at" else pa.int64() if name in ints
                else pa.bool_() if name in flags else pa.string())
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _export_parquet(posts: Iterable[Post], path: Path, batch: int = 50_000) -> int:
    """Stream posts into a Parquet file in row groups of ``batch`` (memory stays flat)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    n, rows = 0, []
    with pq.ParquetWriter(path, schema) as writer:
        for post in posts:
            record = asdict(post)
            rows.append({k: record[k] for k in EXPORT_FIELDS})
            if len(rows) == batch:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                n, rows = n + len(rows), []
        if rows or n == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            n += len(rows)
    return n


def export_posts(
    store: Store,
    output: str | Path,
    *,
    topic: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write every stored post (of a topic and window) once to ``.jsonl``, ``.csv`` or ``.parquet``.

    The file is written beside its destination and renamed into place, so a
    failed export never leaves a half file. Returns the number of posts.
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise SentimentError(f"{output}: export writes .jsonl, .csv or .parquet, not {suffix or 'a file without suffix'}")
    tmp, commit = _atomic_writer(output)
    n = 0
    if suffix == ".parquet":
        try:
            n = _export_parquet(store.posts(topic, since, until), tmp)
            commit()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return n
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, EXPORT_FIELDS) if suffix == ".csv" else None
            if writer:
                writer.writeheader()
            for post in store.posts(topic, since, until):
                record = _export_record(post)
                if writer:
                    writer.writerow({k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
                                     for k, v in record.items()})
                else:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
        commit()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n




def model_for(topic: Topic, model_path: str | Path | None = None) -> StanceClassifier:
    """The model to use for a topic: a model file if given (its groups must be the
    topic's), else the topic's own model trained on its examples."""
    if model_path is None:
        return topic_model(topic)
    return checked_model(load_model(model_path), topic, str(model_path))


def checked_model(model: StanceClassifier, topic: Topic, source: str = "the model") -> StanceClassifier:
    """``model`` if it sorts posts into the topic's groups, else a :class:`ModelError` saying whose groups differ."""
    if set(map(str, model.classes_)) != set(topic.group_ids):
        raise ModelError(f"{source} sorts posts into {sorted(map(str, model.classes_))}, but topic {topic.name!r} "
                         f"has groups {topic.group_ids}; use it with its own topic (--topic, or topic= in Python)")
    return model


def train(examples: str | Path, output: str | Path, *, allowed_labels: Iterable[str] | None = None,
          params: dict[str, Any] | None = None) -> StanceClassifier:
    """Train a stance model on a CSV/TSV of ``text`` and ``label`` (any label names) and save it.

    ``params`` are :class:`StanceClassifier` parameters (both cores are used by default).
    """
    data = load_examples(examples, allowed_labels)
    try:
        model = StanceClassifier(**{"n_jobs": -1, **(params or {})}).fit(data.texts, data.labels)
    except (ValueError, TypeError) as exc:  # one label only, or a bad parameter value (scikit-learn's own check)
        raise ModelError(f"{examples}: cannot train: {exc}") from None
    save_model(model, output, trained_on=str(Path(examples).resolve()))
    return model


def evaluate_examples(examples: str | Path | None, *, topic: Topic, model: StanceClassifier | None = None) -> Evaluation:
    """Score a model on a labeled file; with no file, cross-validate on the topic's own examples."""
    if examples is None:
        model = topic_model(topic)
        if topic.examples is None or model.cv_proba_ is None:
            raise ModelError(f"topic {topic.name!r} has too few examples per group to cross-validate")
        data = load_examples(topic.examples, topic.group_ids)
        result = evaluate(data.labels, model.cv_proba_, [str(c) for c in model.classes_], langs=data.langs)
        result.cv_folds = model.cv_folds_
        return result
    model = model or topic_model(topic)
    classes = [str(c) for c in model.classes_]
    data = load_examples(examples, classes)
    proba = model.predict_proba(data.texts)
    return evaluate(data.labels, proba, classes, langs=data.langs, calibration=calibration(model, classes))
