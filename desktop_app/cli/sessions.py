"""Opening the catalog a command names, with the embedder its options ask for, and bringing it up to date."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..core import caches
from ..core.catalog import catalog_root
from ..core.catalog_data import Catalog
from ..core.embedders import Embedder, WeightsNeeded, create_embedder
from ..core.errors import UserError
from ..core.session import CatalogSession
from ..core.store import NotIndexed
from . import interrupted
from .commands import program_name
from .options import backend_from, choose_default_model, precision_from, say_default_model, weights_from
from .progress import ProgressLine, print_report


def embedder_from(args: argparse.Namespace) -> Embedder:
    """The embedder the model options ask for (the default `make_embedder` of `program.main`)."""
    choose_default_model(args)  # (main did, unless args come straight from the parser)
    folder = getattr(args, "folder", None)
    return create_embedder(args.model, weights_from(args), backend_from(args), precision_from(args),
                           catalog=Path(folder).expanduser().resolve() if folder else None)


def open_session(args, read_only: bool = False, say_model: bool = True) -> CatalogSession:
    """The session of `args.folder` with `args.make_embedder(args)`; says so when its cache was rebuilt, and (unless
    not `say_model`: the command says it later) that the built-in network is used when none was named.
    `read_only`: search an existing cache only (never creates one; works on a read-only data folder)."""
    root = catalog_root(args.folder)
    try:
        embedder = args.make_embedder(args)
    except WeightsNeeded:
        others = [m for m in caches.cached_catalog(root).models() if m != args.model]
        if others:
            raise UserError(f"{root} has a cache for {', '.join(others)} only, and {args.model} needs weights that "
                            f"were not found: add --model {others[0]}, or give --weights FILE.") from None
        raise
    try:
        session = CatalogSession(root, embedder, read_only=read_only, labels_file=labels_file_from(args))
    except NotIndexed as err:
        raise NotIndexed(f"{err} {what_is_cached(root, embedder)}") from None
    if session.store.rebuilt_reason:
        print(f"note: the cache was rebuilt: {session.store.rebuilt_reason}", file=sys.stderr)
    if say_model:
        say_default_model(args)
    return session


def open_to_read(args) -> CatalogSession:
    """The session of a command that reads the whole index after `index_before_reading` (eval, neighbours,
    duplicates, match). Where the catalog's data folder cannot be written (a read-only disk) its cache is opened
    to read only: an up-to-date one is read as it is, and one that is not is said (index_before_reading)."""
    catalog = Catalog.open(args.folder)
    if catalog.can_write():
        return open_session(args)
    try:
        return open_session(args, read_only=True)
    except NotIndexed as err:
        raise UserError(f"{err} {cannot_write(catalog)}") from None


def cannot_write(catalog: Catalog) -> str:
    return (f"fashionrec's data folder {catalog.folder} cannot be written (a read-only disk or folder): index the "
            "catalog where it can be written, or point FASHIONREC_DATA_DIR at a writable copy of it.")


def what_is_cached(root, embedder: Embedder) -> str:
    """What to do when `root` has no cache for `embedder`: the options of a cache it has, or index it."""
    stores = sorted((store for store in caches.cached_catalog(root).stores if not store.error), key=cached_name)
    precision = " --precision int8" if embedder.precision == "int8" else ""
    index = f"{program_name()} index {root} --model {embedder.name}{precision}"
    if not stores:
        return f"Index it first: {index}"
    names = ", ".join(dict.fromkeys(cached_name(store) for store in stores))
    return f"It has a cache for {names}: add {options_of(stores[0])} to search it, or index it first: {index}"


def cached_name(store: caches.StoreInfo) -> str:
    """A store's model, and its precision when int8: 'resnet50 int8'."""
    return f"{store.model} int8" if _is_int8(store) else store.model


def options_of(store: caches.StoreInfo) -> str:
    """The options that open a store: '--model resnet50 --precision int8'."""
    return f"--model {store.model}" + (" --precision int8" if _is_int8(store) else "")


def _is_int8(store: caches.StoreInfo) -> bool:
    return (store.fingerprint or {}).get("precision") == "int8"


def labels_file_from(args: argparse.Namespace) -> Path | None:
    """--labels, for the commands that offer it (their label filters, tuning and eval read that file)."""
    labels = getattr(args, "labels", None)
    return Path(labels) if labels else None


def say_waiting(session: CatalogSession) -> Callable[[], None]:
    return lambda: print(f"waiting for the other fashionrec indexing {session.root} with "
                         f"{session.embedder.name} to finish …", file=sys.stderr, flush=True)


def index_before_reading(session: CatalogSession, args) -> None:
    """Bring the index up to date before reading it (quietly when nothing changed); a session opened to read only
    (open_to_read on a read-only data folder) is only checked: a UserError when its cache is not up to date."""
    if session.read_only:
        changed, gone = session.pending_changes()
        if changed or gone:
            raise UserError(f"The cache of {session.root} for {session.embedder.name} is not up to date (new or "
                            f"changed photos: {changed:,}, gone: {gone:,}) and cannot be brought up to date: "
                            f"{cannot_write(session.catalog)}")
        return
    with interrupted.during(args, interrupted.INDEXING):
        report = session.index(progress=ProgressLine(), wait_for_lock=args.wait,
                               on_wait=say_waiting(session), lock_only_for_changes=True)
    if report.embedded or report.moved or report.removed or report.newly_skipped:
        print_report(report, sys.stderr)


def print_catalog_and_model(session: CatalogSession) -> None:
    print(f"catalog {session.root}\nmodel   {session.embedder.describe()}", file=sys.stderr)
