"""Indexing on a Ray cluster (`fashionrec-cli index FOLDER --engine ray [--address ADDR]`): an engine (engines.py).

The indexer plans as always (scan, diff, commit, report) on this machine; only the new or changed files go to Ray.
A Ray Data pipeline runs decode + embed in `map_batches` on a pool of actors, each building the embedder once
from its spec (embedders/spec.py: the same model, precision, weights, backend, and for int8 the very model
file, checked by hash); every result row carries its worker's fingerprint, checked before the batch is handed
to the indexer. A worker that dies is restarted and its batch retried by Ray (up to BATCH_RETRIES times: a photo
that kills every worker ends the run with a message instead of looping); a run that dies altogether is resumed by
the next run (the indexer commits every batch).

The photos must be visible to every worker at the same absolute path (a shared or synced folder), and a weights
file at the same path too. Ray is an optional extra, imported only here and only when this engine runs.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .catalog import CatalogFile
from .decoding import decode_file, decoder_for
from .embedders import Embedder
from .embedders.spec import spec_of
from .engines import Batches, EmbeddedBatch
from .errors import UserError
from .ray_cluster import connect, start_up_output_to_log
from .store import Skipped

log = logging.getLogger(__name__)

BATCH_RETRIES = 3  # a batch whose worker dies is tried again this often (Ray Data's default: without end)


class _EmbedActor:
    """One Ray actor: builds its embedder once, then decodes and embeds batches of files. A worker that cannot
    build it says why in every row (an exception here would have Ray restart the actor without end)."""

    def __init__(self, build: Callable[[], Embedder], root: str, dim: int):
        self.root, self.dim = Path(root), dim
        try:
            self.embedder: Embedder | None = build()
            self.problem = ""
        except UserError as err:
            self.embedder, self.problem = None, str(err)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [CatalogFile(str(r), int(s), int(m), str(p)) for r, s, m, p in
                 zip(batch["relpath"], batch["size"], batch["mtime_ns"], batch["problem"], strict=True)]
        if self.embedder is None:
            vectors = np.zeros((len(items), self.dim), np.float32)
            return _rows(items, [self.problem] * len(items), vectors, "", self.problem)
        decode = decoder_for(self.embedder)
        decoded = [decode_file(decode, self.root, item) for item in items]
        good = [i for i, (_, pixels) in enumerate(decoded) if not isinstance(pixels, str)]
        vectors = np.zeros((len(items), self.embedder.dim), np.float32)
        if good:
            vectors[good] = self.embedder.embed(np.stack([decoded[i][1] for i in good]))
        reasons = ["" if i in good else str(decoded[i][1]) for i in range(len(items))]
        return _rows([item for item, _ in decoded], reasons, vectors, self.embedder.fingerprint, "")


def _rows(items: list[CatalogFile], reasons: list[str], vectors: np.ndarray, fingerprint: str,
          problem: str) -> dict[str, np.ndarray]:
    """A result batch: per file its identity as read, its vector or the reason it is skipped, the fingerprint of
    the worker's model, and why the worker has no model ("" when it has one)."""
    return {"relpath": np.array([item.relpath for item in items], dtype=object),
            "size": np.array([item.size for item in items], np.int64),
            "mtime_ns": np.array([item.mtime_ns for item in items], np.int64),
            "reason": np.array(reasons, dtype=object), "vector": vectors,
            "fingerprint": np.array([fingerprint] * len(items), dtype=object),
            "failure": np.array([problem] * len(items), dtype=object)}


@dataclass(frozen=True)
class RayEngine:
    """`address`: the cluster (None: $RAY_ADDRESS, else a Ray started on this machine for the run); `workers`:
    actors (default: one per CPU but one); `build`: what the actors call to make the embedder (default: the
    indexing embedder's spec; tests give their own)."""

    address: str | None = None
    workers: int | None = None
    build: Callable[[], Embedder] | None = None

    def batches(self, embedder: Embedder, root: Path, files: list[CatalogFile], batch_size: int) -> Batches:
        if not files:
            return
        build = self.build or spec_of(embedder).build
        with start_up_output_to_log():
            ray = connect(self.address)
            results = _worker_deaths_as_user_error(ray, self._pipeline(ray, build, embedder.dim, root, files,
                                                                       batch_size), len(files))
            first = next(results, None)
        for batch in itertools.chain([first] if first is not None else [], results):
            yield _embedded_batch(batch, embedder.fingerprint)

    def _pipeline(self, ray, build: Callable[[], Embedder], dim: int, root: Path, files: list[CatalogFile],
                  batch_size: int):
        """Decode + embed on a pool of actors, result batches in the order of `files`."""
        rows = [{"relpath": f.relpath, "size": f.size, "mtime_ns": f.mtime_ns, "problem": f.problem} for f in files]
        dataset = ray.data.from_items(rows, override_num_blocks=max(1, len(rows) // (4 * batch_size)))
        with warnings.catch_warnings():  # Ray 2.60 names no parameter for task retries; ray_remote_args warns
            warnings.simplefilter("ignore", DeprecationWarning)
            embedded = dataset.map_batches(
                _EmbedActor, fn_constructor_kwargs={"build": build, "root": str(root), "dim": dim},
                batch_size=batch_size, batch_format="numpy", num_cpus=1,
                compute=ray.data.ActorPoolStrategy(size=_worker_pool_size(ray, self.workers)),
                max_task_retries=BATCH_RETRIES)  # dead actors are still restarted (max_restarts stays -1)
        return embedded.iter_batches(batch_size=batch_size, batch_format="numpy")


def _worker_pool_size(ray, requested: int | None) -> int:
    """Actors of one CPU each, one CPU left over: on a small node, actors holding every CPU starve the
    tasks Ray Data runs besides them and the pipeline stalls."""
    if requested:
        return requested
    return max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)


def _worker_deaths_as_user_error(ray, batches, total: int):
    """The batches (each committed by the indexer before the next is asked for); a batch whose worker died on
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


def _embedded_batch(batch: dict[str, np.ndarray], fingerprint: str) -> EmbeddedBatch:
    """A result batch as the indexer takes it, after checking every row was made by the catalog's model."""
    problems = {str(p) for p in batch["failure"]} - {""}
    if problems:
        raise UserError(f"A Ray worker cannot build the model: {sorted(problems)[0]}")
    foreign = {str(f) for f in batch["fingerprint"]} - {fingerprint}
    if foreign:
        raise UserError("The Ray workers computed vectors with another model or weights than this catalog's "
                        f"({sorted(foreign)[0][:80]}…); give every node the same model file.")
    items, vectors, skipped = [], [], []
    for relpath, size, mtime, reason, vector in zip(batch["relpath"], batch["size"], batch["mtime_ns"],
                                                     batch["reason"], batch["vector"], strict=True):
        if reason:
            skipped.append(Skipped(str(relpath), int(size), int(mtime), str(reason)))
        else:
            items.append(CatalogFile(str(relpath), int(size), int(mtime)))
            vectors.append(np.asarray(vector, np.float32))
    return EmbeddedBatch(items, np.array(vectors, np.float32).reshape(len(items), -1), skipped)
