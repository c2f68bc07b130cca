"""End-to-end scaling: import, classify and report N posts, timed, with peak memory.

    python bench/scale.py [N ...]        (default: 10000 100000 1000000)

For each N, generates N posts (bench/generate.py: sampled and perturbed from
the shipped corpora) as a Parquet file, untimed; then runs, in a fresh folder,

    sentiment run --input posts.parquet --store store.sqlite --out reports

as a separate process and measures its wall time and the peak memory of the
whole process tree (the main process and its classification workers),
sampled every 0.2 s, two ways: the sum of resident sizes (RSS), which counts
pages a forked worker still shares with its parent once per process, and the
proportional set size (PSS), which splits each shared page between the
processes sharing it and so adds up to the memory the job really holds. The topic's model is trained (or loaded from
the cache) beforehand, so the times are of the job, not of training. Prints
one line a figure, then the scaling against the first N.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import write  # noqa: E402

from sentiment.classify import topic_model  # noqa: E402
from sentiment.topic import load_topic  # noqa: E402


def _tree_memory_kb(root: int) -> tuple[int, int]:
    """RSS and PSS of a process and all its descendants, in KB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                fields = {line.split(":")[0]: int(line.split()[1]) for line in handle if line.endswith("kB\n")}
        except (OSError, ValueError, IndexError):
            continue
        rss += fields.get("Rss", 0)
        pss += fields.get("Pss", 0)
    return rss, pss


def measure(n: int, folder: Path) -> tuple[float, int, int]:
    data = write(n, folder / "posts.parquet")
    command = [sys.executable, "-m", "sentiment.cli", "-q", "run", "--input", str(data),
               "--store", str(folder / "store.sqlite"), "--out", str(folder / "reports")]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss, pss = _tree_memory_kb(process.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.2)
    took = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"sentiment run failed for {n} posts (exit {process.returncode})")
    return took, peak_rss, peak_pss


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    topic_model(load_topic())  # trained or loaded before timing
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            took, peak_rss, peak_pss = measure(n, Path(tmp))
        results.append((n, took))
        print(f"import_classify_report_{n}_posts_seconds: {took:.1f}", flush=True)
        print(f"peak_pss_{n}_posts_mb: {peak_pss / 1024:.0f}", flush=True)
        print(f"peak_rss_sum_{n}_posts_mb: {peak_rss / 1024:.0f}", flush=True)
        print(f"throughput_{n}_posts_per_s: {n / took:,.0f}", flush=True)
    base_n, base_t = results[0]
    for n, took in results[1:]:
        print(f"scaling_{base_n}_to_{n}: time x{took / base_t:.1f} for posts x{n / base_n:.0f}")


if __name__ == "__main__":
    main()
