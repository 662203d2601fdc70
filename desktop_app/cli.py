"""fashionrec-cli: index a catalog folder, query it with a photo, inspect or forget its cache."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from .core import evaluate
from .core import store as store_module
from .core.bench import DEFAULT_N as BENCH_DEFAULT_N
from .core.bench import run_bench
from .core.catalog import catalog_root
from .core.embedders import DEFAULT_MODEL, MODELS, create_embedder
from .core.embedders.resnet50 import BACKEND_ENV, BACKENDS, DEFAULT_BACKEND
from .core.errors import UserError
from .core.indexer import IndexReport, Progress
from .core.logs import setup_logging
from .core.search import DEFAULT_K
from .core.session import CatalogSession
from .core.weights import random_weights, resolve_weights

log = logging.getLogger("fashionrec.cli")


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def _embedder(args):
    weights = None
    if args.random_weights is not None:
        weights = random_weights(args.random_weights)
    elif args.weights:
        weights = resolve_weights(args.weights)
    return create_embedder(args.model, weights, args.backend)


def _session(args) -> CatalogSession:
    embedder = _embedder(args)
    session = CatalogSession(args.folder, embedder)
    if session.store.rebuilt_reason:
        print(f"note: the cache was rebuilt: {session.store.rebuilt_reason}", file=sys.stderr)
    return session


class ProgressLine:
    """A single self-overwriting progress line on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.done == p.total
        if not final and now - self._last < (0.2 if self.tty else 5.0):
            return
        self._last = now
        percent = 100.0 * p.done / p.total if p.total else 100.0
        line = (f"indexing {p.done}/{p.total} ({percent:.0f}%)  {p.rate:.1f} img/s  "
                f"ETA {_format_seconds(p.eta)}  skipped {p.skipped_count}")
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        if final and self.tty:
            self.stream.write("\n")
        self.stream.flush()


def print_report(report: IndexReport, out=None) -> None:
    out = out or sys.stdout
    state = "cancelled" if report.cancelled else "done"
    print(f"{state} in {report.elapsed:.1f} s: {report.files} image files, {report.embedded} embedded, "
          f"{report.unchanged} unchanged, {len(report.all_skipped)} skipped, {report.removed} removed; "
          f"{report.indexed} searchable", file=out)
    for relpath, reason in report.all_skipped:
        print(f"  skipped {relpath}: {reason}", file=out)


def cmd_index(args) -> int:
    with _session(args) as session:
        print(f"catalog {session.root}\nmodel   {session.embedder.describe()}", file=sys.stderr)
        report = session.index(batch_size=args.batch_size, progress=ProgressLine(), wait_for_lock=args.wait)
    print_report(report)
    if report.files == 0:
        raise UserError(f"No images found in {session.root} (looked for .jpg .png .webp .bmp .gif .tif).")
    return 0


def cmd_query(args) -> int:
    args.folder = args.catalog
    with _session(args) as session:
        results = session.query(args.image, k=args.k, exclude_self=not args.include_self)
    if args.json:
        print(json.dumps([{"rank": r.rank, "path": str(session.path_of(r.relpath)), "distance": round(r.distance, 6)}
                          for r in results], indent=2))
    else:
        for r in results:
            print(f"{r.rank}. {r.distance:.4f}  {session.path_of(r.relpath)}")
    return 0


def cmd_info(args) -> int:
    root = catalog_root(args.folder)
    stores = store_module.list_stores(root)
    print(f"catalog {root}")
    if not stores:
        print("not indexed yet")
    for entry in stores:
        print(f"store   {entry['path']} ({entry['bytes'] / 2**20:.1f} MiB)")
        if "error" in entry:
            print(f"  {entry['error']}")
            continue
        print(f"  {entry['items']} items, {entry['skipped']} skipped; "
              f"{json.dumps(entry['fingerprint'], sort_keys=True)}")
    return 0


def cmd_eval(args) -> int:
    with _session(args) as session:
        labels_path = args.labels or evaluate.find_labels_file(session.root)
        if labels_path is None:
            raise UserError(f"No {evaluate.LABELS_FILENAME} in or beside {session.root}; pass --labels FILE.")
        by_filename = evaluate.load_labels(labels_path, args.field)  # checked before any indexing
        print(f"catalog {session.root}\nmodel   {session.embedder.describe()}\nlabels  {labels_path}",
              file=sys.stderr)
        progress = ProgressLine()
        report = session.index(progress=lambda p: p.total and progress(p), wait_for_lock=args.wait)
        if report.embedded or report.removed or report.newly_skipped:
            print_report(report, sys.stderr)
        relpaths, vectors = session.store.load_vectors()
        result = evaluate.evaluate(relpaths, vectors, evaluate.match_labels(relpaths, by_filename), args.k,
                                   args.field)
    print(f"model: {session.embedder.describe()}")
    print(evaluate.format_report(result))
    if args.sheet:
        rows = evaluate.contact_sheet(result, session.root, args.sheet, args.sheet_rows, args.seed)
        print(f"contact sheet of {rows} random queries (seed {args.seed}): {args.sheet}")
    return 0


def cmd_forget(args) -> int:
    root = catalog_root(args.folder)
    removed = store_module.forget_catalog(root)
    print(f"{'forgot' if removed else 'nothing cached for'} {root}")
    return 0


def cmd_bench(args) -> int:
    if args.model != "resnet50":
        raise UserError("The bench measures the resnet50 model (the seed recipe); use --model resnet50.")
    if args.weights is None and args.random_weights is None:
        args.random_weights = 0  # speed does not depend on the weights' values
    run_bench(_embedder(args), images=args.images, n=args.n, batch_size=args.batch_size,
              compare_backends=args.compare_backends)
    return 0


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL, help="embedding algorithm")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help=f"how resnet50 runs (default: ${BACKEND_ENV} or {DEFAULT_BACKEND}, the fastest)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--weights", metavar="FILE", help="ResNet50 no-top weights file (.h5)")
    group.add_argument("--random-weights", metavar="SEED", type=int, nargs="?", const=0,
                       help="explicit seeded random init instead of ImageNet weights (demos, tests)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionrec-cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index (or update the index of) a catalog folder")
    p.add_argument("folder")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    _add_model_options(p)
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("query", help="the catalog items most similar to a photo")
    p.add_argument("image")
    p.add_argument("--catalog", required=True, metavar="FOLDER")
    p.add_argument("-k", type=int, default=DEFAULT_K)
    p.add_argument("--json", action="store_true", help="print a JSON list of {rank, path, distance}")
    p.add_argument("--include-self", action="store_true", help="keep the query file if it is in the catalog")
    _add_model_options(p)
    p.set_defaults(run=cmd_query)

    p = sub.add_parser("info", help="what is cached for a catalog folder")
    p.add_argument("folder")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("forget", help="delete the cache of a catalog folder")
    p.add_argument("folder")
    p.set_defaults(run=cmd_forget)

    p = sub.add_parser("bench", help="measure indexing and query speed on this machine (a few minutes)")
    p.add_argument("--images", metavar="DIR", type=Path,
                   help="photos to index (default: the fashion-2k sample when present, else generated)")
    p.add_argument("-n", type=int, default=BENCH_DEFAULT_N, help="how many photos (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--compare-backends", action="store_true", help="also time the backends not in use")
    _add_model_options(p)
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("eval", help="leave-one-out precision@k / mAP@k of a catalog against a labels CSV")
    p.add_argument("folder")
    p.add_argument("--labels", metavar="CSV", help="CSV with a filename column (default: labels.csv in or "
                   "beside the folder)")
    p.add_argument("--field", default=evaluate.DEFAULT_FIELD, help="the CSV column that is the label")
    p.add_argument("-k", type=int, default=DEFAULT_K)
    p.add_argument("--sheet", metavar="PNG", help="also draw a contact sheet of random queries and results")
    p.add_argument("--sheet-rows", type=int, default=8, metavar="N", help="queries on the contact sheet")
    p.add_argument("--seed", type=int, default=0, help="picks the contact sheet's queries")
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    _add_model_options(p)
    p.set_defaults(run=cmd_eval)
    return parser


COMMANDS = ("index", "query", "info", "forget", "eval", "bench")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    if hasattr(sys.stdout, "reconfigure"):  # file names any console can show (e.g. cp1252 when redirected)
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        return args.run(args)
    except UserError as err:
        print(f"fashionrec: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nfashionrec: interrupted; every finished batch is saved and the next run resumes.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
