"""Classify a Parquet dataset partition by partition, in this process or on a Dask cluster.

A dataset is a Parquet file, a folder of them or a glob, with the columns
``sentiment export`` writes (at least ``id`` and ``text``). Each row group of
each file is one *partition*, read on its own: its rows become posts exactly
as ``sentiment import`` makes them, the model classifies them
(:func:`sentiment.classify.predict_posts`), the partition's per-post results
go to their own Parquet file, and the partition hands back only its
:class:`~sentiment.quantify.PostTotals`. Totals add up, so the group shares
of the whole dataset come from the sum of the partitions' totals: no process
ever holds all the posts.

Two engines run the same partition code and differ only in scheduling:

* ``engine="local"`` works through the partitions in order, on this machine
  (a large partition is classified on every core, as ``sentiment report`` does);
* ``engine="dask"`` runs one task per partition on a ``dask.distributed``
  cluster (a two-worker ``LocalCluster`` by default, or the scheduler at
  ``scheduler="tcp://host:8786"``), sends the model to each worker once, and
  adds the totals up in the cluster; only the final sum comes back.

Both add the partitions' totals in the same fixed tree, so they return
identical files and identical shares, whatever the batch size.

>>> import pyarrow as pa, pyarrow.parquet as pq
>>> from sentiment.classify import StanceClassifier
>>> pq.write_table(pa.table({"id": ["1", "2", "3"], "text": ["build it", "scrap it", "yes, build"]}), "posts.parquet")
>>> model = StanceClassifier(cv=None).fit(["build it, yes", "yes to it", "scrap it, no", "no, scrap it"],
...                                       ["pro", "pro", "con", "con"])
>>> result = classify_dataset("posts.parquet", "classified", model=model, group_ids=["pro", "con"])
>>> result.n_posts, result.summary.groups["pro"].n, [p.name for p in result.output.iterdir()]
(3, 2, ['part-00000.parquet'])
"""

from __future__ import annotations

import functools
import glob
import importlib.metadata
import logging
import operator
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .classify import StanceClassifier, predict_posts
from .classify import calibration as model_calibration
from .errors import InputError, ModelError, RecordError, SentimentError
from .importers import parquet_batch_records
from .models import Post
from .normalize import normalize_post
from .parallel import PARALLEL_FROM
from .quantify import METHODS, PostTotals
from .summarize import Summary, summarize_totals

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["ENGINES", "ClusterError", "DatasetResult", "classify_dataset"]

log = logging.getLogger(__name__)

#: The ways to run :func:`classify_dataset`.
ENGINES = ("local", "dask")

_INSTALL_HINT = "pip install 'sentiment[dask]'"
_PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
_PART_NAME = re.compile(r"part-[0-9]+\.parquet")
# Totals are added in groups of this many, level by level: a tree both
# engines build the same way, so the float sums agree to the last bit.
_SPLIT_EVERY = 8
_MAX_REJECTIONS_KEPT = 10
_READ_BATCH = 10_000  # rows per Arrow batch, as the importer reads them


class ClusterError(SentimentError):
    """Dask is not installed, the scheduler cannot be reached, or its workers cannot run `sentiment`."""


@dataclass(frozen=True)
class DatasetResult:
    """What classifying a dataset did.

    ``output`` is the folder of per-post results (one ``part-NNNNN.parquet``
    per partition, in input order); ``totals`` the summed
    :class:`~sentiment.quantify.PostTotals` the ``summary`` was computed from;
    ``rejections`` the first few rows that were not posts, each
    ``"file, row N: problem"``.
    """

    n_posts: int
    n_rejected: int
    n_partitions: int
    summary: Summary
    output: Path
    totals: PostTotals = field(compare=False, repr=False)
    rejections: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Partition:
    """One row group of one file: what a task reads, and the file it writes."""

    index: int
    path: str  # an absolute local path or a URL, the same on every worker
    row_group: int
    first_row: int  # rows of the file before this row group (rows are numbered from 1, as import does)
    n_rows: int
    part_name: str


@dataclass(frozen=True)
class _Counts:
    """A partition's contribution, which adds up over partitions."""

    totals: PostTotals
    n_rejected: int = 0
    rejections: tuple[str, ...] = ()

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(self.totals + other.totals, self.n_rejected + other.n_rejected,
                       (self.rejections + other.rejections)[:_MAX_REJECTIONS_KEPT])


def classify_dataset(
    source: str | Path,
    output: str | Path,
    *,
    model: StanceClassifier,
    group_ids: Sequence[str],
    calibration: tuple[np.ndarray, np.ndarray] | None = None,
    engine: str = "local",
    scheduler: str | Client | None = None,
    n_workers: int = 2,
    batch_size: int = 2000,
    method: str = "acc",
    timeout: float = 10.0,
    progress: Callable[[str, int | None, str], Any] | None = None,
) -> DatasetResult:
    """Classify every post of a Parquet dataset into the folder ``output`` and summarise the shares.

    ``source`` is a Parquet file, a folder of them (searched recursively,
    skipping names that start with ``.`` or ``_``) or a glob; a URL such as
    ``s3://bucket/posts/`` is read through fsspec. ``output`` is a local (or
    shared) folder, written whole or not at all: into a hidden folder beside
    it, renamed into place when complete. An existing ``output`` is replaced
    only if it holds nothing but ``part-*.parquet`` files.

    Each output file has the columns ``id``, ``label``, ``confidence``,
    ``p_<group>`` for each of ``group_ids`` (in that order) and
    ``sentiment`` (VADER compound, English posts only, else null).

    ``calibration`` is the model's out-of-fold ``(cv_proba, cv_labels)``
    that corrects the shares; None takes it from the model
    (:func:`sentiment.classify.calibration`), and a model without one gives
    plain counts. ``method`` is passed to
    :func:`sentiment.summarize.summarize_totals`.

    ``engine="dask"`` runs one task per partition on a ``dask.distributed``
    cluster: ``scheduler`` None starts a ``LocalCluster`` of ``n_workers``
    single-threaded processes for this call; an address
    (``"tcp://host:8786"``) connects to a running cluster, giving up after
    ``timeout`` seconds; a ``distributed.Client`` is used as it is and left
    open. Workers of a running cluster need the same ``sentiment`` and
    scikit-learn versions, and must see ``source`` and ``output`` at the
    same paths.

    ``progress`` is a factory called as ``progress("classifying", total_rows,
    "posts")`` returning a bar with ``update(n)`` and ``close()``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "local" and scheduler is not None:
        raise ValueError("a scheduler is only used by engine='dask'")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if batch_size < 1 or n_workers < 1:
        raise ValueError(f"batch_size and n_workers must be at least 1, got {batch_size} and {n_workers}")
    groups = tuple(str(g) for g in group_ids)
    check_is_fitted(model, "pipeline_")
    classes = sorted(str(c) for c in model.classes_)
    if classes != sorted(groups):
        raise ModelError(f"the model's labels ({', '.join(classes)}) are not the groups ({', '.join(groups)})")
    # Workers write here, so the path must mean the same on all of them.
    output = Path(output).absolute()
    _check_output(output, source)
    distributed = _import_distributed() if engine == "dask" else None  # fail before reading anything
    parts = _plan(source)
    log.info("%s: %d partitions, %d rows", source, len(parts), sum(p.n_rows for p in parts))

    tmp = output.with_name(f".{output.name}.tmp-{uuid.uuid4().hex[:12]}")
    tmp.mkdir(parents=True)
    try:
        with _bar(progress, sum(p.n_rows for p in parts)) as update:
            if not parts:
                counts = _Counts(PostTotals.of(np.zeros((0, len(groups)))))
            elif distributed is None:
                counts = _run_local(model, parts, tmp, groups, batch_size, update)
            else:
                counts = _run_dask(distributed, model, parts, tmp, groups, batch_size, update,
                                   scheduler=scheduler, n_workers=n_workers, timeout=timeout)
        cal = model_calibration(model, groups) if calibration is None else calibration
        cv_proba, cv_labels = cal if cal is not None else (None, None)
        summary = summarize_totals(counts.totals, groups, cv_proba=cv_proba, cv_labels=cv_labels, method=method)
        _commit(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return DatasetResult(counts.totals.n, counts.n_rejected, len(parts), summary, output, counts.totals,
                         counts.rejections)


# -- the dataset's files and partitions -----------------------------------------

def _is_url(text: str) -> bool:
    return "://" in text


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise InputError(url, f"reading a URL needs fsspec (and s3fs for s3://): {_INSTALL_HINT}") from None
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise InputError(url, f"cannot read this URL: {exc}") from None


def _natural_key(text: str) -> list[Any]:
    # part-2 before part-10, as the files were written
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"([0-9]+)", text)]


def _is_data_file(path: str, root: str) -> bool:
    inside = path[len(root):] if path.startswith(root) else os.path.basename(path)
    relative = [part for part in re.split(r"[\\/]", inside) if part]
    return (not any(part.startswith((".", "_")) for part in relative)
            and relative[-1].lower().endswith(_PARQUET_SUFFIXES))


def _dataset_files(source: str | Path) -> list[str]:
    """The dataset's files in order: absolute paths, or URLs for a URL source."""
    text = str(source)
    if _is_url(text):
        fs, root = _filesystem(text)
        protocol = text.split("://", 1)[0]
        glob_, isdir, isfile, find = fs.glob, fs.isdir, fs.isfile, fs.find

        def full(path: str) -> str:
            return path if _is_url(path) else f"{protocol}://{path}"
    else:
        root = os.path.abspath(os.path.expanduser(text))
        glob_ = functools.partial(glob.glob, recursive=True)
        isdir, isfile, full = os.path.isdir, os.path.isfile, os.path.abspath

        def find(top: str) -> list[str]:
            return [os.path.join(folder, name) for folder, _, names in os.walk(top) for name in names]
    if glob.has_magic(root):
        files = [p for p in glob_(root) if isfile(p)]
        if not files:
            raise InputError(text, "no files match this pattern")
    elif isdir(root):
        files = [p for p in find(root) if _is_data_file(p, root)]
        if not files:
            raise InputError(text, f"no Parquet files ({', '.join('*' + s for s in _PARQUET_SUFFIXES)}) in this folder")
    elif isfile(root):
        files = [root]
    else:
        raise InputError(text, "no such file or folder")
    return sorted((full(p) for p in files), key=_natural_key)


@contextmanager
def _parquet_file(path: str) -> Iterator[Any]:
    """Open a dataset file as a ``pyarrow.parquet.ParquetFile``, failing with an error naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = None
    try:
        # Local files by path: Arrow reads them natively, faster than through a Python file.
        handle = _filesystem(path)[0].open(path, "rb") if _is_url(path) else None
        parquet = pq.ParquetFile(handle or path)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (pa.ArrowException, OSError) as exc:
        if handle is not None:
            handle.close()
        raise InputError(path, f"not a Parquet file, or a damaged one ({exc}); the dataset engines read "
                               "Parquet, as `sentiment export --output FILE.parquet` writes it") from None
    try:
        yield parquet
    finally:
        parquet.close()
        if handle is not None:
            handle.close()


def _plan(source: str | Path) -> list[_Partition]:
    """Every row group of every file, in order, after checking each file's columns.

    Only the files' footers are read here.
    """
    found: list[tuple[str, int, int, int]] = []
    for path in _dataset_files(source):
        with _parquet_file(path) as parquet:
            # The importer's check and message, for the same columns.
            names = [n.lower() for n in parquet.schema_arrow.names]
            missing = [col for col in ("id", "text") if col not in names]
            if missing:
                raise InputError(path, f"Parquet file has no {' or '.join(repr(c) for c in missing)} column "
                                       f"(columns found: {', '.join(names)[:200]})")
            first = 0
            for group in range(parquet.metadata.num_row_groups):
                rows = parquet.metadata.row_group(group).num_rows
                found.append((path, group, first, rows))
                first += rows
    width = max(5, len(str(len(found) - 1)))
    return [_Partition(i, path, group, first, rows, f"part-{i:0{width}d}.parquet")
            for i, (path, group, first, rows) in enumerate(found)]


# -- one partition: the code both engines run ------------------------------------

def _records(part: _Partition) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row, record)`` for the rows of one row group, numbered within the file.

    Records are made by the importer's own :func:`~sentiment.importers.parquet_batch_records`,
    so :func:`~sentiment.normalize.normalize_post` gives the same posts as import.
    """
    import pyarrow as pa

    row = part.first_row
    with _parquet_file(part.path) as parquet:
        try:
            for batch in parquet.iter_batches(batch_size=_READ_BATCH, row_groups=[part.row_group]):
                for record in parquet_batch_records(batch):
                    row += 1
                    yield row, record
        except (pa.ArrowException, OSError) as exc:
            raise InputError(path=part.path, problem=f"row group {part.row_group} is unreadable: {exc}") from None


def _output_schema(group_ids: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.schema([pa.field("id", pa.string()), pa.field("label", pa.string()),
                      pa.field("confidence", pa.float64()),
                      *[pa.field(f"p_{g}", pa.float64()) for g in group_ids],
                      pa.field("sentiment", pa.float64())])


def _classify_partition(model: StanceClassifier, part: _Partition, folder: str, group_ids: tuple[str, ...],
                        batch_size: int, n_jobs: int | None = None) -> _Counts:
    """Classify one partition, write its ``part-NNNNN.parquet`` into ``folder`` and return its totals.

    ``n_jobs`` is for the local engine (a cluster's workers are its processes): the same results on more cores.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_rejected = 0
    kept: list[str] = []

    def posts() -> Iterator[Post]:
        nonlocal n_rejected
        for row, record in _records(part):
            try:
                yield normalize_post(record)
            except RecordError as exc:
                n_rejected += 1
                if len(kept) < _MAX_REJECTIONS_KEPT:
                    kept.append(f"{part.path}, row {row}: {exc}")

    schema = _output_schema(group_ids)
    target = Path(folder) / part.part_name
    # A task may run twice (a lost worker's tasks are retried): each run
    # writes its own file and the last rename wins.
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}")
    proba: list[list[float]] = []
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}

    def flush(writer: Any) -> None:
        writer.write_table(pa.table(columns, schema=schema))
        for values in columns.values():
            values.clear()

    try:
        with pq.ParquetWriter(partial, schema) as writer:
            for post, pred in predict_posts(model, posts(), batch_size=batch_size, n_jobs=n_jobs):
                row = [pred.probabilities[g] for g in group_ids]
                proba.append(row)
                columns["id"].append(post.id)
                columns["label"].append(pred.label)
                columns["confidence"].append(pred.confidence)
                for g, p in zip(group_ids, row, strict=True):
                    columns[f"p_{g}"].append(p)
                columns["sentiment"].append(pred.sentiment)
                if len(columns["id"]) >= batch_size:
                    flush(writer)
            flush(writer)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # Totals of the whole partition at once (not per batch), so they do not depend on batch_size.
    totals = PostTotals.of(np.asarray(proba, dtype=float).reshape(-1, len(group_ids)))
    return _Counts(totals, n_rejected, tuple(kept))


def _add_all(*counts: _Counts) -> _Counts:
    return functools.reduce(operator.add, counts)


def _tree(items: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """Reduce ``items`` level by level in groups of ``_SPLIT_EVERY`` (the same tree for both engines)."""
    while len(items) > 1:
        items = [combine(items[i:i + _SPLIT_EVERY]) for i in range(0, len(items), _SPLIT_EVERY)]
    return items[0]


@contextmanager
def _bar(progress: Callable[[str, int | None, str], Any] | None, total: int) -> Iterator[Callable[[int], Any]]:
    if progress is None:
        yield lambda n: None
        return
    bar = progress("classifying", total, "posts")
    try:
        yield bar.update
    finally:
        bar.close()


# -- the engines -----------------------------------------------------------------

def _run_local(model: StanceClassifier, parts: list[_Partition], folder: Path, group_ids: tuple[str, ...],
               batch_size: int, update: Callable[[int], Any]) -> _Counts:
    results = []
    for part in parts:
        jobs = -1 if part.n_rows >= PARALLEL_FROM else None  # as `sentiment report` does
        results.append(_classify_partition(model, part, str(folder), group_ids, batch_size, jobs))
        update(part.n_rows)
    return _tree(results, lambda chunk: _add_all(*chunk))


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"the dask engine needs Dask's distributed scheduler: {_INSTALL_HINT}") from None
    return distributed


@contextmanager
def _client(distributed: Any, scheduler: Any, n_workers: int, timeout: float) -> Iterator[Any]:
    """A connected ``Client``: of a LocalCluster started (and closed) here, of a remote scheduler, or the caller's."""
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler  # a Client the caller made and will close
        return
    if scheduler is None:
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        try:
            with distributed.Client(cluster, set_as_default=False) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({exc}); "
                           "is `dask scheduler` running there, and the port open?") from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {scheduler} has no workers; start some with "
                               f"`dask worker {scheduler}`") from None
        yield client
    finally:
        client.close()


def _check_workers(client: Any) -> None:
    """Every worker has `sentiment` and the scikit-learn that made the model, at this machine's versions."""
    import sklearn

    from . import __version__

    for dist, wanted in (("sentiment", __version__), ("scikit-learn", sklearn.__version__)):
        found = client.run(importlib.metadata.version, dist, on_error="return")
        for worker, version in sorted(found.items()):
            if isinstance(version, BaseException):
                raise ClusterError(f"worker {worker} cannot import {dist}; install it on every worker: {_INSTALL_HINT}")
            if version != wanted:
                raise ClusterError(f"worker {worker} has {dist} {version} but this machine has {wanted}; "
                                   "install the same version everywhere")


def _run_dask(distributed: Any, model: StanceClassifier, parts: list[_Partition], folder: Path,
              group_ids: tuple[str, ...], batch_size: int, update: Callable[[int], Any], *, scheduler: Any,
              n_workers: int, timeout: float) -> _Counts:
    run = uuid.uuid4().hex[:8]
    with _client(distributed, scheduler, n_workers, timeout) as client:
        _check_workers(client)
        log.info("classifying %d partitions on %s", len(parts), client.scheduler.address)
        shared_model = client.scatter(model, broadcast=True, hash=False)  # once per worker, not per task
        futures = {
            client.submit(_classify_partition, shared_model, part, str(folder), group_ids, batch_size,
                          key=f"sentiment-partition-{run}-{part.index}"): part
            for part in parts
        }
        level = iter(range(len(parts)))
        total = _tree(list(futures),
                      lambda chunk: client.submit(_add_all, *chunk, key=f"sentiment-totals-{run}-{next(level)}"))
        try:
            for done in distributed.as_completed(futures, loop=client.loop):
                if done.status == "error":
                    done.result()  # raises the task's error
                update(futures[done].n_rows)
            return total.result()
        except ImportError as exc:
            raise ClusterError(f"a worker cannot run sentiment ({exc}); install it on every worker: "
                               f"{_INSTALL_HINT}") from None
        except distributed.KilledWorker as exc:
            raise ClusterError(f"workers kept dying while classifying ({exc}); out of memory? Write the dataset "
                               "with smaller row groups, or give the workers more memory") from None
        finally:
            client.cancel([*futures, total, shared_model])


# -- the output folder -------------------------------------------------------------

def _replaceable(output: Path) -> bool:
    return output.is_dir() and all(_PART_NAME.fullmatch(child.name) for child in output.iterdir())


def _check_output(output: Path, source: str | Path) -> None:
    if output.exists() and not _replaceable(output):
        what = "a folder holding other files than part-*.parquet" if output.is_dir() else "not a folder"
        raise SentimentError(f"{output}: the output exists and is {what}; choose another output folder")
    text = str(source)
    local_folder = not _is_url(text) and not glob.has_magic(text) and os.path.isdir(text)
    if local_folder and output.resolve().is_relative_to(Path(text).resolve()):
        raise ValueError(f"the output folder {output} is inside the dataset folder {text}")


def _commit(tmp: Path, output: Path) -> None:
    """Put the complete folder in place of ``output`` (an old result is removed only once the new one is in)."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{uuid.uuid4().hex[:12]}")
        os.replace(output, old)
    os.replace(tmp, output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
