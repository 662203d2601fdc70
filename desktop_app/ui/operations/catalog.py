"""Named operations on the catalog itself: open it with a model (writer lane, then its reader for the reader
lane), index it (writer, with progress and cancel), read it again on the reader lane."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...core.embedders import Embedder, WeightsNeeded, create_embedder, needs_weights
from ...core.weights import Weights
from ..lanes import READER, WRITER, CatalogInfo, Lane, OpenCatalog
from ..model_choice import parse_choice
from . import Op, op

GROUP = "catalog"  # opening and indexing: a newer request drops the replies of older ones


@dataclass(frozen=True)
class Opened:
    info: CatalogInfo
    reader: OpenCatalog  # the same catalog for the reader lane


@dataclass(frozen=True)
class NeedsWeights:
    message: str  # which weights file is missing, and why (the window asks for it)


@dataclass(frozen=True)
class LoadingModel:
    description: str  # the embedder being loaded before the first batch (TensorFlow: seconds)


def embedder_for(lane: Lane, choice: str, weights: Weights | None, folder: str) -> Embedder:
    """The embedder of a model box choice (model_choice.py); weights go only to a model that runs on them, and
    int8 calibrates on, so belongs to, the catalog."""
    if choice in lane.given:
        return lane.given[choice]
    model, precision = parse_choice(choice)
    weights = weights if needs_weights(model) else None
    catalog = Path(folder) if precision else None
    key = (choice, weights, catalog)
    if key not in lane.built:  # resolving weights may try a download: this is why it runs on the lane
        lane.built[key] = create_embedder(model, weights, precision=precision, catalog=catalog)
    return lane.built[key]


def open_on(lane: Lane, folder: str, choice: str, weights: Weights | None) -> Opened | NeedsWeights:
    """Open `folder` with `choice` as the writer lane's catalog; the previous one closes only once it opened."""
    from ...core.reader import CatalogReader  # numpy, SQLite: off the startup path
    from ...core.session import CatalogSession

    try:
        embedder = embedder_for(lane, choice, weights, folder)
    except WeightsNeeded as missing:
        return NeedsWeights(str(missing))
    session = CatalogSession(folder, embedder)
    lane.install(OpenCatalog(session))
    weights_used = embedder.weights
    info = CatalogInfo(str(session.root), session.store.count(), embedder.name, embedder.describe(),
                       bool(weights_used is not None and weights_used.is_random), session.store.rebuilt_reason,
                       embedder.precision)
    return Opened(info, OpenCatalog(CatalogReader(session)))


def index_on(catalog: OpenCatalog, task, batch_size: int):
    """Embed new and changed photos, drop deleted ones; the model is loaded first, so the window can say why
    nothing moves yet. task.report gets LoadingModel, then core.indexer.Progress after every batch."""
    embedder = catalog.session.embedder
    task.report(LoadingModel(embedder.describe()))
    embedder.load()
    return catalog.session.index(batch_size=batch_size, progress=task.report, should_cancel=task.should_cancel)


def open_catalog(host, folder: str, choice: str, weights: Weights | None) -> Op:
    return op(host, lambda lane: open_on(lane, folder, choice, weights), WRITER, with_catalog=False) \
        .newest_only(GROUP)


def install_reader(host, reader: OpenCatalog) -> Op:
    return op(host, lambda lane: lane.install(reader), READER, with_catalog=False)


def index_catalog(host, batch_size: int, on_progress) -> Op:
    return op(host, lambda catalog, task: index_on(catalog, task, batch_size)).with_progress(on_progress) \
        .newest_only(GROUP)


def read_again(host) -> Op:
    """The reader lane reads the store now (an index run ended): the next search sees all of it."""
    return op(host, lambda catalog: catalog.keep_fresh(now=True), READER)
