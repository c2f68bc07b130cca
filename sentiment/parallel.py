"""Work spread over worker processes, results in order, memory flat.

Classification is Python code that threads cannot speed up, so it uses
processes. On Linux they are forked: a forked worker starts in milliseconds
with the caller's modules already imported and the model already in memory
(shared until written), where a fresh interpreter spends two to three seconds
importing scikit-learn and loading the model. Elsewhere (macOS, where forking
a process that has used system frameworks is unsafe, and Windows, which cannot
fork) they are loky's (joblib's process pool), which starts workers without
re-running the caller's main script.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["PARALLEL_FROM", "chunks", "cores", "ordered_map"]

#: From this many posts, classification runs in a worker process per core
#: (below it, starting the workers costs more than it saves).
PARALLEL_FROM = 20_000

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` consecutive items (the last may be shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def cores(n_jobs: int | None) -> int:
    """Worker processes for ``n_jobs`` (None, 0 or 1: none; -1: one per available core)."""
    if n_jobs in (None, 0, 1):
        return 1
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return available if n_jobs < 0 else min(n_jobs, available)


def ordered_map(
    function: Callable[[Any], Any],
    items: Iterable[T],
    *,
    workers: int,
    argument: Callable[[T], Any] = lambda item: item,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[tuple[T, Any]]:
    """Yield ``(item, function(argument(item)))`` for each item, in order.

    ``function`` runs in ``workers`` processes, a few items ahead of the
    consumer and never the whole input at once. It must be a module-level
    function; ``initializer(*initargs)`` runs once in each worker.
    """
    pool = _pool(workers, initializer, initargs)
    try:
        in_flight: deque[tuple[T, Any]] = deque()
        for item in items:
            in_flight.append((item, pool.submit(function, argument(item))))
            if len(in_flight) > 2 * workers:
                done, future = in_flight.popleft()
                yield done, future.result()
        while in_flight:
            done, future = in_flight.popleft()
            yield done, future.result()
    finally:
        pool.shutdown(wait=True)


def _pool(workers: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> Any:
    """A process pool: forked workers on Linux, loky's elsewhere."""
    if sys.platform == "linux":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=initializer, initargs=initargs)
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=workers, initializer=initializer, initargs=initargs, reuse=False)
