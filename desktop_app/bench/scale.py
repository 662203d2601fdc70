"""`bench --scale`: the compact index (core/compact_index.py) at a million items, next to its goals.

For each set of real vectors (every photo of the bench's folder and variants of them, flipped, cropped and
colour-shifted, embedded by each model: 42,000 by default, so that the first stage keeps a small share of them
and can miss):
- recall on the real vectors themselves: 5,000 of them, spread evenly, query the compact index built on the set
  (leave-self-out top-5), each result compared with exact brute force;
- a synthetic catalog of `items` vectors made from them (mixtures of two real vectors + noise shaped like the
  real vectors' spread, normalised), written to disk like the real index, then: build time, query time,
  top-5 equal to exact brute force (half the queries are the real vectors, half new synthetic ones), search
  memory and re-open time, measured in a fresh process. Memory is the process's own (RssAnon); the pages of
  the memory-mapped float32 vectors the re-ranking touched are printed apart: they are the kernel's page cache,
  shared and dropped under memory pressure (the kernel maps up to 64 KiB around each row read).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..core import compact_index
from ..core.catalog import scan
from ..core.embedders import create_embedder
from ..core.search import Searcher
from .augmented import REAL_ITEMS, augmented_vectors

DEFAULT_ITEMS = 1_000_000
QUERY_GOAL_MS, MEMORY_GOAL, REOPEN_GOAL_S, RECALL_GOAL = 50.0, 1.5 * 2**30, 3.0, 0.99
_CHUNK = 65_536
REAL_QUERIES = 5_000  # of a real set, spread evenly (each also checked by brute force)


def synthetic_vectors(real: np.ndarray, count: int, seed: int, path: Path | None = None) -> np.ndarray | np.memmap:
    """`count` unit vectors like the real ones: a mixture of two real vectors (weights 1 and 0..0.5) plus
    Gaussian noise with 0.3× the real vectors' per-dimension spread. Written to `path` (.npy) chunk by chunk
    when given, so a million 2048-d vectors never sit in memory."""
    rng = np.random.default_rng(seed)
    spread = real.std(axis=0)
    out = (np.lib.format.open_memmap(path, mode="w+", dtype="<f4", shape=(count, real.shape[1]))
           if path else np.empty((count, real.shape[1]), np.float32))
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        mixed = real[rng.integers(0, len(real), n)] + rng.uniform(0, 0.5, (n, 1)) * real[rng.integers(0, len(real), n)]
        mixed += 0.3 * spread * rng.standard_normal(mixed.shape, dtype=np.float32)
        out[start:start + n] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[list[int]]:
    """Exact top-k row indices of each query by brute force, one pass over the (memory-mapped) vectors."""
    best_d = np.full((len(queries), 0), np.inf)
    best_i = np.zeros((len(queries), 0), np.int64)
    for start in range(0, len(vectors), _CHUNK):
        chunk = np.asarray(vectors[start:start + _CHUNK], np.float64)
        d = (np.einsum("ij,ij->i", chunk, chunk)[None, :] - 2 * queries.astype(np.float64) @ chunk.T)
        keep = min(k + 16, d.shape[1])
        part = np.argpartition(d, keep - 1, axis=1)[:, :keep]
        best_d = np.hstack([best_d, np.take_along_axis(d, part, 1)])
        best_i = np.hstack([best_i, part + start])
        top = np.argsort(best_d, axis=1)[:, :k + 16]
        best_d, best_i = np.take_along_axis(best_d, top, 1), np.take_along_axis(best_i, top, 1)
    tops = []
    for q, rows in zip(queries, best_i, strict=True):  # exact distances of the few best, ties by position as Searcher
        exact = np.linalg.norm(np.asarray(vectors[np.sort(rows)], np.float64) - q, axis=1)
        tops.append(list(np.sort(rows)[np.lexsort((np.sort(rows), exact))][:k]))
    return tops


def real_recall(vectors: np.ndarray, k: int = 5, queries: int | None = None) -> tuple[float, float, int]:
    """(share of queries whose leave-self-out top-k from the compact index equals exact brute force's, share the
    index proved exact, queries): items of a real set (all, or `queries` of them spread evenly) querying the
    index built on that set."""
    relpaths = [f"{i:07d}" for i in range(len(vectors))]
    compact = compact_index.CompactSearcher(
        {**compact_index.compact_arrays(vectors), **_relpath_arrays(relpaths)}, vectors)
    exact = Searcher(relpaths, vectors)
    asked = np.linspace(0, len(vectors) - 1, min(queries or len(vectors), len(vectors))).astype(int)
    same = proved = 0
    for i in asked:
        ours = [r.relpath for r in compact.search(vectors[i], k, exclude=relpaths[i])]
        proved += compact.last_exact
        same += ours == [r.relpath for r in exact.search(vectors[i], k, exclude=relpaths[i])]
    return same / len(asked), proved / len(asked), len(asked)


def _relpath_arrays(relpaths: list[str]) -> dict[str, np.ndarray]:
    listed = compact_index._Relpaths.from_list(relpaths)
    return {"relpath_bytes": listed._blob, "relpath_offsets": listed._offsets}


def build_synthetic_index(real: np.ndarray, count: int, folder: Path, seed: int = 1) -> float:
    """A compact index of `count` synthetic vectors in `folder`, as build_index writes it; seconds to build."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    vectors = synthetic_vectors(real, count, seed, folder / "vectors.npy")
    assert isinstance(vectors, np.memmap)  # written to a file: flushed before the index reads it
    vectors.flush()
    started = time.perf_counter()
    arrays = compact_index.compact_arrays(np.load(folder / "vectors.npy", mmap_mode="r"))
    relpaths = [f"item{i:07d}.jpg" for i in range(count)]
    compact_index.save_folder(folder, arrays, relpaths, {"generation": "bench", "fitted_on": count})
    return time.perf_counter() - started


_REOPEN_PROBE = """
import json, sys, time
import numpy as np
from desktop_app.core import compact_index
from desktop_app.core.search import _single_blas_thread
def rss():  # (own memory, pages of memory-mapped files)
    fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith(("RssAnon:", "RssFile:"))}
    return fields["RssAnon"], fields["RssFile"]
folder, dim, queries = sys.argv[1], int(sys.argv[2]), np.load(sys.argv[3])
_single_blas_thread()  # threadpoolctl: loaded when the app starts, not part of the re-open
before = rss()
started = time.perf_counter()
index = compact_index.load_folder(__import__("pathlib").Path(folder), dim, "bench")
index.search(queries[0], 5)
reopen = time.perf_counter() - started
times, tops, proved = [], [], 0
for q in queries:
    t = time.perf_counter()
    tops.append([int(r.relpath[4:11]) for r in index.search(q, 5)])
    times.append(time.perf_counter() - t)
    proved += index.last_exact
after = rss()
print(json.dumps({"reopen": reopen, "own": after[0] - before[0], "mapped": after[1] - before[1], "times": times,
                  "tops": tops, "proved": proved}))
"""


def measure_in_fresh_process(folder: Path, dim: int, queries: np.ndarray) -> dict:
    """Re-open time, search memory (RSS growth), per-query times and top-5s, from a new Python process."""
    np.save(folder / "queries.npy", queries)
    done = subprocess.run([sys.executable, "-c", _REOPEN_PROBE, str(folder), str(dim), str(folder / "queries.npy")],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the re-open probe failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def run_scale(bench, real_sets: dict[str, np.ndarray], workdir: Path, items: int = 1_000_000,
              queries: int = 200) -> None:
    """Print the compact index's figures for each real set (name → its vectors) and a synthetic catalog of
    `items` vectors made from it. `bench` has section(title), say(text) and add(label, value, target, met)."""
    for name, real in real_sets.items():
        bench.section(f"Big catalogs: {name} vectors ({real.shape[1]}-d)")
        bench.say(f"recall on the {len(real):,} real vectors (they query the others) …")
        same, proved, queried = real_recall(real, queries=REAL_QUERIES)
        kept = min(compact_index.FIRST_STAGE, len(real)) / len(real)
        bench.add(f"top-5 = exact, {len(real):,} real {name} vectors ({queried:,} queries; the first stage keeps "
                  f"{kept:.0%})", f"{same:.1%} (proved exact: {proved:.1%})", f"≥ {RECALL_GOAL:.0%}",
                  same >= RECALL_GOAL)
        folder = workdir / f"scale-{name}"
        bench.say(f"writing {items:,} synthetic vectors and building their compact index …")
        build = build_synthetic_index(real, items, folder)
        bench.add(f"compact index build, {items:,} items (PCA fit + codes)", f"{build:.1f} s")
        held_out = real[np.random.default_rng(3).permutation(len(real))[:queries // 2]]
        asked = np.vstack([held_out, synthetic_vectors(real, queries - len(held_out), seed=2)])
        bench.say(f"{queries} queries in a fresh process, then exact brute force for the same queries …")
        seen = measure_in_fresh_process(folder, real.shape[1], asked)
        truth = exact_top(np.load(folder / "vectors.npy", mmap_mode="r"), asked, 5)
        equal = np.array([ours == list(map(int, exact)) for ours, exact in zip(seen["tops"], truth, strict=True)])
        ms = 1000 * np.array(seen["times"])
        bench.add(f"query, {items:,} items (median / p95)", f"{np.median(ms):.1f} / {np.percentile(ms, 95):.1f} ms",
                  f"< {QUERY_GOAL_MS:.0f} ms", float(np.median(ms)) < QUERY_GOAL_MS)
        for label, part in (("real", equal[:len(held_out)]), ("synthetic", equal[len(held_out):])):
            bench.add(f"top-5 = exact, {items:,} items, {len(part)} {label} query vectors", f"{part.mean():.1%}",
                      f"≥ {RECALL_GOAL:.0%}", part.mean() >= RECALL_GOAL)
        bench.add("queries the index proved exact (bounds)", f"{seen['proved'] / queries:.1%}")
        bench.add("search memory (own RSS growth: open + queries)", f"{seen['own'] / 2**30:.2f} GiB",
                  f"< {MEMORY_GOAL / 2**30:.1f} GiB", seen["own"] < MEMORY_GOAL)
        bench.add("+ vector file pages mapped (page cache, reclaimable)", f"{seen['mapped'] / 2**30:.2f} GiB")
        bench.add("re-open (load the index + first query, fresh process)", f"{seen['reopen']:.2f} s",
                  f"< {REOPEN_GOAL_S:.0f} s", seen["reopen"] < REOPEN_GOAL_S)
        shutil.rmtree(folder, ignore_errors=True)


def section(bench, ctx, items: int = DEFAULT_ITEMS, real_items: int = REAL_ITEMS) -> None:
    """The bench section (`bench --scale`): `real_items` real vectors, of every photo of the bench's source folder
    (not only the first -n) and variants of them (bench/augmented.py: flipped, cropped, colour-shifted), embedded
    by the bench's model and by colour-texture."""
    photos = ctx.photos
    if ctx.source is not None:
        root = Path(ctx.source).resolve()
        photos = [root / f.relpath for f in scan(root) if not f.problem]
    real_sets = {}
    models = [ctx.embedder] + ([] if ctx.embedder.name == "colour-texture" else [create_embedder("colour-texture")])
    for embedder in models:
        name = f"{embedder.name} {embedder.precision}" + (
            " (random weights)" if embedder.weights is not None and embedder.weights.is_random else "")
        bench.say(f"{real_items:,} real {name} vectors of {len(photos):,} photos and their variants …")
        real_sets[name] = augmented_vectors(embedder, photos, max(real_items, len(photos)), say=bench.say)
    run_scale(bench, real_sets, ctx.workdir, items)
