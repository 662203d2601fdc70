"""Indexing on a Ray cluster (`fashionrec-cli index FOLDER --engine ray [--address ADDR]`).

The driver (this process) scans the folder and diffs it against the store exactly as local indexing does; only
new or changed files go to Ray. A Ray Data pipeline runs decode + embed in `map_batches` on a pool of actors,
each building the embedder once (the same model file, preprocessing and fingerprint as the app); every result
row carries its worker's fingerprint, checked before the driver commits the batch into the catalog's own store.
Each committed batch stays committed: a worker that dies is restarted and its batch retried by Ray (up to
BATCH_RETRIES times: a photo that kills every worker ends the run with a message instead of looping), and a
run that dies altogether is resumed by the next run (only the files not yet in the store are embedded).

The photos must be visible to every worker at the same absolute path (a shared or synced folder).
Ray is an optional extra, imported only here and only when this engine runs.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .catalog import CatalogFile, scan
from .decoding import decode_file, decoder_for
from .embedders import Embedder, create_embedder
from .errors import UserError
from .indexer import IndexReport, Progress, ProgressCallback, _changes, _scan_folder
from .store import Embedded, Skipped, Store

log = logging.getLogger(__name__)

INSTALL_HINT = "The ray engine needs Ray Data: pip install -e '.[cluster]' (or pip install 'ray[data]')."
BATCH_RETRIES = 3  # a batch whose worker dies is tried again this often (Ray Data's default: without end)


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the extra, not only ray core
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    # fashionrec prints its own progress line; Ray Data's progress logs would interleave with it.
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return ray


class _EmbedActor:
    """One Ray actor: builds its embedder once, then decodes and embeds batches of files."""

    def __init__(self, make_embedder: Callable[[], Embedder], root: str):
        self.embedder = make_embedder()
        self.root = Path(root)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [CatalogFile(str(r), int(s), int(m)) for r, s, m in
                 zip(batch["relpath"], batch["size"], batch["mtime_ns"], strict=True)]
        decode = decoder_for(self.embedder)
        decoded = [decode_file(decode, self.root, item) for item in items]
        good = [i for i, (_, pixels) in enumerate(decoded) if not isinstance(pixels, str)]
        vectors = np.zeros((len(items), self.embedder.dim), np.float32)
        if good:
            vectors[good] = self.embedder.embed(np.stack([decoded[i][1] for i in good]))
        return {
            "relpath": np.array([item.relpath for item, _ in decoded], dtype=object),
            "size": np.array([item.size for item, _ in decoded], np.int64),
            "mtime_ns": np.array([item.mtime_ns for item, _ in decoded], np.int64),
            "reason": np.array(["" if i in good else decoded[i][1] for i in range(len(items))], dtype=object),
            "vector": vectors,
            "fingerprint": np.array([self.embedder.fingerprint] * len(items), dtype=object),
        }


def ray_engine(embedder: Embedder, backend: str | None = None, address: str | None = None, **options):
    """index_with_ray as an engine for CatalogSession.index: the workers build the same model as `embedder`,
    with the same weights file (which must be at the same path on every node), at the same precision."""
    make_embedder = functools.partial(create_embedder, embedder.name, embedder.weights, backend, embedder.precision)
    return functools.partial(index_with_ray, make_embedder=make_embedder, address=address, **options)


def _worker_pool_size(ray, requested: int | None) -> int:
    """Actors of one CPU each, one CPU left over: on a small node, actors holding every CPU starve the
    tasks Ray Data runs besides them and the pipeline stalls."""
    if requested:
        return requested
    return max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)


def index_with_ray(
    store: Store,
    make_embedder: Callable[[], Embedder],
    *,
    address: str | None = None,
    batch_size: int = 16,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> IndexReport:
    """Bring `store` up to date with its folder, embedding on Ray. `make_embedder` (picklable, called once
    in each actor) must build the embedder whose fingerprint the store holds. Without a running Ray and
    without `address`, a local Ray is started for this run."""
    ray = import_ray()
    started = time.perf_counter()
    report = IndexReport()
    files, unreadable_folders = _scan_folder(store, scan)
    changes = _changes(store, files, unreadable_folders)
    if changes.gone:
        store.remove(changes.gone)
    report.files, report.removed = len(files), len(changes.gone)
    report.unchanged = len(files) - len(changes.todo)
    unreadable = changes.unreadable_folders + [Skipped(f.relpath, f.size, f.mtime_ns, f.problem)
                                               for f in changes.todo if f.problem]
    todo = [f for f in changes.todo if not f.problem]
    if unreadable:
        store.commit_batch([], unreadable)
        report.newly_skipped += [(s.relpath, s.reason) for s in unreadable]
    state = Progress(0, len(todo), 0, 0.0)
    if progress:
        progress(state)
    if todo:
        if not ray.is_initialized():
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        batches = _embedded_batches(ray, store, make_embedder, todo, batch_size, workers)
        for batch in _worker_deaths_as_user_error(ray, batches, len(todo)):
            embedded, skipped = _rows(batch, store)
            store.commit_batch(embedded, skipped)
            report.embedded += len(embedded)
            newly = tuple((s.relpath, s.reason) for s in skipped)
            report.newly_skipped += newly
            state = Progress(state.done + len(batch["relpath"]), state.total, state.skipped_count + len(skipped),
                             time.perf_counter() - started, newly)
            if progress:
                progress(state)
            if should_cancel and should_cancel():
                report.cancelled = True
                break
    report.decoded = state.done  # files the workers read
    report.all_skipped = store.skipped_files()
    report.indexed = store.count()
    report.elapsed = time.perf_counter() - started
    return report


def _embedded_batches(ray, store, make_embedder, todo: list[CatalogFile], batch_size: int, workers: int | None):
    rows = [{"relpath": f.relpath, "size": f.size, "mtime_ns": f.mtime_ns} for f in todo]
    dataset = ray.data.from_items(rows, override_num_blocks=max(1, len(rows) // (4 * batch_size)))
    embedded = dataset.map_batches(
        _EmbedActor, fn_constructor_kwargs={"make_embedder": make_embedder, "root": str(store.root)},
        batch_size=batch_size, batch_format="numpy", num_cpus=1,
        compute=ray.data.ActorPoolStrategy(size=_worker_pool_size(ray, workers)),
        max_task_retries=BATCH_RETRIES)  # dead actors are still restarted (max_restarts stays -1)
    return embedded.iter_batches(batch_size=batch_size, batch_format="numpy")


def _worker_deaths_as_user_error(ray, batches, total: int):
    """The batches (each committed by the caller before the next is asked for); a batch whose worker died on
    every try ends the run with what to do about it."""
    handed_out = 0
    try:
        for batch in batches:
            handed_out += len(batch["relpath"])
            yield batch
    except ray.exceptions.RayError as err:
        if not _is_worker_death(ray, err):
            raise
        raise UserError(
            f"A Ray worker died {BATCH_RETRIES + 1} times on the same batch of photos: one of them may crash the "
            f"decoder or the model, or the batch needs more memory than a node has. What was embedded is kept; "
            f"{total - handed_out} photos are not indexed yet. Try a smaller --batch-size, or index the folder "
            "with --engine local to see the photo.") from None


def _is_worker_death(ray, err: BaseException | None) -> bool:
    """Ray Data may wrap the actor's death in its own errors: look through the causes."""
    while err is not None:
        if isinstance(err, ray.exceptions.ActorDiedError | ray.exceptions.ActorUnavailableError
                      | ray.exceptions.WorkerCrashedError):
            return True
        err = err.__cause__ or err.__context__
    return False


def _rows(batch: dict[str, np.ndarray], store: Store) -> tuple[list[Embedded], list[Skipped]]:
    """A result batch as store records, after checking every row was made by the store's model."""
    foreign = {str(f) for f in batch["fingerprint"]} - {store.fingerprint}
    if foreign:
        raise UserError("The Ray workers computed vectors with another model or weights than this catalog's "
                        f"({sorted(foreign)[0][:80]}…); give every node the same model file.")
    embedded, skipped = [], []
    for relpath, size, mtime, reason, vector in zip(batch["relpath"], batch["size"], batch["mtime_ns"],
                                                     batch["reason"], batch["vector"], strict=True):
        if reason:
            skipped.append(Skipped(str(relpath), int(size), int(mtime), str(reason)))
        else:
            embedded.append(Embedded(str(relpath), int(size), int(mtime), np.asarray(vector, np.float32)))
    return embedded, skipped
