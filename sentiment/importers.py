"""Importers: posts from files users already have, format detected from content.

Accepted, whatever the file is called:

* X API v2 response pages, as saved by any client: one JSON document (a page
  or a list of pages) or JSON Lines with one page per line;
* twarc2 output (JSON Lines, one API page per line, with ``__twarc`` metadata);
* flat JSON Lines, one post per line with at least ``id`` and ``text``
  (optional ``created_at``, ``lang``, ``author_username``, ``author_id``,
  metrics such as ``like_count``), and API post objects one per line
  (``twarc2 flatten`` output);
* CSV (or TSV) with a header holding at least ``id`` and ``text`` and the
  same optional columns;
* Parquet with the same columns (``created_at`` a string or a timestamp
  with a timezone); rejections name the row.

A file that cannot be parsed (malformed JSON, invalid UTF-8, no ``text``
column, a PDF...) fails as a whole with an :class:`InputError` naming the
file and line, and the store is left as it was. A single post that is
unusable (no text, an id that is not an X id, a time without a timezone) is
*rejected*: skipped and counted, with its line and reason in
:attr:`ImportResult.rejections`; ``strict=True`` makes any rejection fail the
whole file instead.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import InputError, RecordError
from .models import Post
from .normalize import MAX_TEXT_CHARS, is_page, iter_page_posts, normalize_post, page_errors
from .parallel import cores, ordered_map
from .store import StoredRow, Store, UpsertCounts, stored_row

__all__ = ["ImportResult", "Rejection", "read_posts", "import_file", "import_files", "detect_format"]

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
_BATCH = 1000
#: From this file size, posts are normalised on every core (see :func:`read_posts`).
PARALLEL_FILE_BYTES = 5_000_000
_MAX_REJECTIONS_KEPT = 50
# A CSV field longer than this is a broken file (an unclosed quote swallowing
# the rest), not a post: posts are at most MAX_TEXT_CHARS long.
_CSV_FIELD_LIMIT = 10 * MAX_TEXT_CHARS
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an Excel or OpenDocument file?)",
    b"\x1f\x8b": "a gzip archive",
    b"SQLite format 3": "a SQLite database",
    b"\x89PNG": "a PNG image",
}


@dataclass(frozen=True)
class Rejection:
    """A post that was skipped: where it was and why."""

    line: int | None
    problem: str


@dataclass
class ImportResult:
    """What importing one file did."""

    path: str
    format: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates_in_file: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.new + self.updated + self.unchanged


class _Reader:
    """Streams a file's lines as text, failing clearly on bytes that are not UTF-8."""

    def __init__(self, path: Path, handle: IO[bytes], progress: Progress | None) -> None:
        self.path = path
        self.handle = handle
        self.progress = progress

    def lines(self) -> Iterator[tuple[int, str]]:
        for number, raw in enumerate(self.handle, start=1):
            if self.progress:
                self.progress(len(raw))
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(self.path, f"invalid UTF-8 at byte {exc.start + 1} of the line", number) from None


def _sniff(path: Path, head: bytes) -> None:
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise InputError(path, f"this is {what}, not posts; import reads JSON, JSON Lines or CSV")
    if b"\x00" in head:
        raise InputError(path, "this is a binary file, not posts; import reads JSON, JSON Lines or CSV")
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(path, "the file is empty")


def detect_format(path: str | Path) -> str:
    """Name the format of a file from its content (``api-json``, ``api-jsonl``,
    ``twarc2-jsonl``, ``posts-jsonl``, ``csv``, ``tsv`` or ``parquet``) without importing it."""
    fmt = "?"
    for fmt, _ in _records(Path(path), None, sniff_only=True):
        break
    return fmt


def _first_content_line(lines: Iterable[tuple[int, str]]) -> tuple[int, str] | None:
    for number, line in lines:
        if line.strip():
            return number, line
    return None


def _records(path: Path, progress: Progress | None, sniff_only: bool = False) -> Iterator[tuple[str, Any]]:
    """Yield ``(format, item)``: items are ``("page", line, obj)`` or ``("post", line, obj)``
    or ``("reject", line, problem)``."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    with handle:
        head = handle.read(8192)
        if head.startswith(b"PAR1"):
            yield from _parquet_records(path, sniff_only, progress)
            return
        _sniff(path, head)
        handle.seek(0)
        reader = _Reader(path, handle, progress)
        first = _first_content_line(reader.lines())
        if first is None:
            raise InputError(path, "the file is empty")
        handle.seek(0)
        stripped = first[1].lstrip("\ufeff").strip()
        if stripped.startswith(("{", "[")):
            try:
                single = json.loads(stripped)
            except json.JSONDecodeError:
                single = None
            if isinstance(single, dict):
                yield from _jsonl_records(path, reader, sniff_only)
            else:
                yield from _json_document(path, handle, sniff_only, progress)
        else:
            yield from _csv_records(path, reader, stripped, sniff_only)


def parquet_batch_records(batch: Any) -> Iterator[dict[str, Any]]:
    """The flat records of an Arrow record batch, as import reads Parquet rows:
    lower-case keys, nulls and empty strings left out (for :func:`normalize_post`)."""
    names = [n.lower() for n in batch.schema.names]
    # Column by column, then zipped into rows: faster than Arrow building a dict a row.
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    for values in zip(*columns):
        yield {k: v for k, v in zip(names, values) if v is not None and v != ""}


def _parquet_records(path: Path, sniff_only: bool, progress: Progress | None) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet file with the flat columns (``id``, ``text``, ...), streamed in batches."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(path, f"unreadable Parquet file: {exc}") from None
    names = [n.lower() for n in parquet.schema_arrow.names]
    missing = [col for col in ("id", "text") if col not in names]
    if missing:
        raise InputError(path, f"Parquet file has no {' or '.join(repr(c) for c in missing)} column "
                               f"(columns found: {', '.join(names)[:200]})")
    if sniff_only:
        yield "parquet", None
        return
    row = 0
    for batch in parquet.iter_batches(batch_size=10_000):
        for record in parquet_batch_records(batch):
            row += 1
            yield "parquet", ("post", row, record)
    if progress:
        progress(path.stat().st_size)


def _jsonl_records(path: Path, reader: _Reader, sniff_only: bool) -> Iterator[tuple[str, Any]]:
    fmt = None
    for number, line in reader.lines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", number) from None
        if fmt is None:
            fmt = "twarc2-jsonl" if isinstance(obj, dict) and "__twarc" in obj else (
                "api-jsonl" if is_page(obj) else "posts-jsonl"
            )
            if sniff_only:
                yield fmt, None
                return
        yield fmt, ("page" if is_page(obj) else "post", number, obj)


def _json_document(path: Path, handle: IO[bytes], sniff_only: bool, progress: Progress | None) -> Iterator[tuple[str, Any]]:
    data = handle.read()
    if progress:
        progress(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "invalid UTF-8", data.count(b"\n", 0, exc.start) + 1) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    items = doc if isinstance(doc, list) else [doc]
    if sniff_only:
        yield "api-json", None
        return
    for item in items:
        yield "api-json", ("page" if is_page(item) else "post", None, item)


def _csv_records(path: Path, reader: _Reader, header: str, sniff_only: bool) -> Iterator[tuple[str, Any]]:
    delimiter = "\t" if "\t" in header and "," not in header else ","
    fmt = "tsv" if delimiter == "\t" else "csv"
    numbered = reader.lines()
    # csv counts physical lines itself (quoted fields may span lines).
    text_lines = (line for _, line in numbered)
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    # strict: a quote left open (or text after a closing quote) is an error,
    # not a field that silently swallows the rows after it.
    rows = csv.reader(text_lines, delimiter=delimiter, strict=True)
    try:
        names = [name.strip().lower() for name in next(rows)]
    except csv.Error as exc:
        raise InputError(path, f"bad CSV header: {exc}", 1) from None
    missing = [col for col in ("id", "text") if col not in names]
    if missing:
        found = ", ".join(n for n in names if n)[:200] or "none"
        raise InputError(
            path,
            f"CSV has no {' or '.join(repr(c) for c in missing)} column (columns found: {found}); "
            "a CSV needs a header row with at least id and text",
            1,
        )
    if sniff_only:
        yield fmt, None
        return
    while True:
        start = rows.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, f"bad CSV: {exc}; the quoted field that begins on line {start} is not closed "
                             "where a field should end (a stray or unclosed quote?)", rows.line_num) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            yield fmt, ("reject", rows.line_num, f"{len(row)} fields but the header has {len(names)}")
            continue
        yield fmt, ("post", rows.line_num, {k: v for k, v in zip(names, row) if k and v != ""})


def read_posts(
    path: str | Path, *, progress: Progress | None = None, n_jobs: int | None = None,
) -> Iterator[tuple[int | None, Post | Rejection]]:
    """Yield ``(line, Post)`` for every good post of a file and ``(line, Rejection)``
    for every unusable one, in file order. Raises :class:`InputError` if the file
    itself cannot be read. ``line`` is None for single JSON documents.

    Posts are normalised in ``n_jobs`` worker processes (-1: one per core);
    None uses every core for files of 5 MB (some 20,000 posts) or more, and
    one process otherwise.
    """
    yield from _read(path, progress, n_jobs, _normalized_batch)


def _read(path: str | Path, progress: Progress | None, n_jobs: int | None,
          normalize: Callable[[list[tuple[str, int | None, Any]]], list[tuple[int | None, Any]]]) -> Iterator[Any]:
    """``normalize`` over the file's records, in file order, in worker processes for large files."""
    path = Path(path)
    if n_jobs is None:
        n_jobs = -1 if path.stat().st_size >= PARALLEL_FILE_BYTES else 1
    records = _logged(path, _records(path, progress))
    workers = cores(n_jobs)
    if workers == 1:
        for batch in _batches(records, 100):
            yield from normalize(batch)
        return
    for _, items in ordered_map(normalize, _batches(records, 2000), workers=workers):
        yield from items


def _batches(records: Iterable[tuple[str, int | None, Any]], size: int) -> Iterator[list[tuple[str, int | None, Any]]]:
    """Lists of consecutive records holding about ``size`` posts (a page holds many)."""
    batch: list[tuple[str, int | None, Any]] = []
    posts = 0
    for record in records:
        batch.append(record)
        data = record[2].get("data") if record[0] == "page" else None
        posts += len(data) if isinstance(data, list) else 1
        if posts >= size:
            yield batch
            batch, posts = [], 0
    if batch:
        yield batch


def _logged(path: Path, records: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, int | None, Any]]:
    """The records, each page's reported errors logged on the way."""
    for _, record in records:
        kind, line, obj = record
        if kind == "page":
            for error in page_errors(obj):
                log.warning("%s%s: the API reported an error: %s", path, f":{line}" if line else "",
                            error.get("detail") or error.get("title") or error)
        yield record


def _normalized(record: tuple[str, int | None, Any]) -> Iterator[tuple[int | None, Post | Rejection]]:
    kind, line, obj = record
    if kind == "reject":
        yield line, Rejection(line, obj)
    elif kind == "page":
        for index, item, users in iter_page_posts(obj):
            try:
                yield line, normalize_post(item, users)
            except RecordError as exc:
                yield line, Rejection(line, f"post {index + 1} of the page: {exc}")
    else:
        try:
            yield line, normalize_post(obj)
        except RecordError as exc:
            yield line, Rejection(line, str(exc))


def _normalized_batch(records: list[tuple[str, int | None, Any]]) -> list[tuple[int | None, Post | Rejection]]:
    # Run in a worker process: a module-level function of picklable arguments.
    return [item for record in records for item in _normalized(record)]


def _row_batch(records: list[tuple[str, int | None, Any]]) -> list[tuple[int | None, StoredRow | Rejection]]:
    # The store's rows, hashes and all, made where the posts are normalised.
    return [(line, item if isinstance(item, Rejection) else stored_row(item))
            for line, item in _normalized_batch(records)]


def import_file(
    store: Store,
    path: str | Path,
    *,
    topic: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    n_jobs: int | None = None,
) -> ImportResult:
    """Import one file into ``store`` in one transaction (all or nothing).

    ``n_jobs`` as for :func:`read_posts`: posts are normalised (and hashed
    for the store) in worker processes for files of 5 MB or more.

    >>> import tempfile, os
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> _ = f.write("id,text\\n1,hello\\n"); f.close()
    >>> with Store(":memory:") as s:
    ...     import_file(s, f.name).new
    1
    >>> os.unlink(f.name)
    """
    path = Path(path)
    result = ImportResult(path=str(path), format=detect_format(path))
    seen: set[int] = set()
    batch: list[StoredRow] = []

    def flush() -> None:
        nonlocal totals
        totals += store.upsert_rows(batch, topic=topic, source_id=source_id)
        batch.clear()

    totals = UpsertCounts()
    with store.transaction():
        source_id = store.add_source("file", str(path.resolve()), result.format)
        for line, item in _read(path, progress, n_jobs, _row_batch):
            if isinstance(item, Rejection):
                if strict:
                    raise InputError(path, item.problem, line)
                result.rejected += 1
                if len(result.rejections) < _MAX_REJECTIONS_KEPT:
                    result.rejections.append(item)
                continue
            if item.id in seen:
                # The same id twice in one file: the later copy wins (it usually
                # carries newer metrics) and the post is still counted once.
                result.duplicates_in_file += 1
                flush()
                store.upsert_rows([item], topic=topic, source_id=source_id)
                continue
            seen.add(item.id)
            batch.append(item)
            if len(batch) >= _BATCH:
                flush()
        flush()
        result.new, result.updated, result.unchanged = totals.new, totals.updated, totals.unchanged
        store.finish_source(source_id, totals, result.rejected)
    return result


def import_files(
    store: Store,
    paths: Iterable[str | Path],
    *,
    topic: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> list[ImportResult]:
    """Import several files, each in its own transaction; stops at the first bad file."""
    return [import_file(store, p, topic=topic, strict=strict, progress=progress) for p in paths]


