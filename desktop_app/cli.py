"""fashionrec-cli: index a catalog folder, query it with a photo, inspect or forget what is cached."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import cli_caches, cli_similar, cli_tuned
from .bench import DEFAULT_N as BENCH_DEFAULT_N
from .commands import COMMANDS, program_name
from .core import caches, labels, tuning
from .core.catalog import catalog_root
from .core.embedders import Embedder, WeightsNeeded, create_embedder
from .core.errors import UserError
from .core.evaluate import contact_sheet, evaluate, format_report
from .core.formatting import format_duration
from .core.indexer import DEFAULT_BATCH_SIZE, IndexReport, Progress
from .core.logs import setup_logging
from .core.ray_engine import import_ray, ray_engine
from .core.search import DEFAULT_K
from .core.session import CatalogSession
from .core.store import CatalogBusy
from .options import (
    Parser,
    add_model_options,
    add_precision_option,
    backend_from,
    count,
    precision_from,
    weights_from,
    weights_or_found,
)

log = logging.getLogger("fashionrec.cli")
SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what `cat`, `grep` … report when the reader of their output has gone


def embedder_from(args: argparse.Namespace) -> Embedder:
    """The embedder the model options ask for (the default `make_embedder` of `main`)."""
    folder = getattr(args, "folder", None)
    return create_embedder(args.model, weights_from(args), backend_from(args), precision_from(args),
                           catalog=Path(folder).expanduser().resolve() if folder else None)


def _session(args) -> CatalogSession:
    root = catalog_root(args.folder)
    try:
        embedder = args.make_embedder(args)
    except WeightsNeeded:
        others = [m for m in caches.cached_catalog(root).models() if m != args.model]
        if others:
            raise UserError(f"{root} has a cache for {', '.join(others)} only, and {args.model} needs weights that "
                            f"were not found: add --model {others[0]}, or give --weights FILE.") from None
        raise
    session = CatalogSession(root, embedder)
    if session.store.rebuilt_reason:
        print(f"note: the cache was rebuilt: {session.store.rebuilt_reason}", file=sys.stderr)
    return session


class ProgressLine:
    """A single self-overwriting progress line on stderr (plain lines when stderr is not a terminal;
    nothing when there is no stderr, as in a windowed app on Windows)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream is not None and self.stream.isatty()
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        if not p.total:  # nothing new to embed: the report says so
            return
        percent = 100.0 * p.done / p.total
        self.show(lambda: f"indexing {p.done}/{p.total} ({percent:.0f}%)  {p.rate:.1f} img/s  "
                          f"ETA {format_duration(p.eta)}  skipped {p.skipped_count}", p.done == p.total)

    def show(self, line: Callable[[], str], final: bool) -> None:
        """Write the line (made only when shown), at most 5 times a second on a terminal, every 5 s otherwise."""
        now = time.monotonic()
        if self.stream is None or (not final and now - self._last < (0.2 if self.tty else 5.0)):
            return
        self._last = now
        line = line()
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        if final and self.tty:
            self.stream.write("\n")
        self.stream.flush()


class StepProgress(ProgressLine):
    """`what done/total (percent)` of a long search (neighbours, duplicates) on the same progress line."""

    def __init__(self, what: str, stream=None):
        super().__init__(stream)
        self.what = what

    def __call__(self, done: int, total: int) -> None:
        self.show(lambda: f"{self.what} {done}/{total} ({100.0 * done / total:.0f}%)", done == total)


def print_report(report: IndexReport, out=None) -> None:
    out = out or sys.stdout
    state = "cancelled" if report.cancelled else "done"
    print(f"{state} in {report.elapsed:.1f} s: {report.files} image files, {report.embedded} embedded, "
          f"{report.unchanged} unchanged, {len(report.all_skipped)} skipped, {report.removed} removed; "
          f"{report.indexed} searchable", file=out)
    for relpath, reason in report.all_skipped:
        print(f"  skipped {relpath}: {reason}", file=out)


def _say_waiting(session: CatalogSession) -> Callable[[], None]:
    return lambda: print(f"waiting for the other fashionrec indexing {session.root} with "
                         f"{session.embedder.name} to finish …", file=sys.stderr, flush=True)


def cmd_index(args) -> int:
    if args.address and args.engine != "ray":
        raise UserError("--address is the Ray cluster's address: use it with --engine ray.")
    if args.engine == "ray":
        import_ray()  # without Ray: how to install it, before anything is opened
    with _session(args) as session:
        print(f"catalog {session.root}\nmodel   {session.embedder.describe()}", file=sys.stderr)
        options = {"batch_size": args.batch_size, "progress": ProgressLine()}
        report = session.index(wait_for_lock=args.wait, on_wait=_say_waiting(session),
                               engine=ray_engine(session.embedder, backend_from(args), args.address, **options)
                               if args.engine == "ray" else None,
                               **options)
    print_report(report)
    return 0


def cmd_query(args) -> int:
    args.folder = args.catalog
    with _session(args) as session:
        if args.tuned:
            tuned = cli_tuned.tuning_of(session, args.labels, args.tuned)
            results = tuning.tuned_query(session, tuned, args.image, args.k, not args.include_self,
                                         **cli_similar.query_options(args))
        else:
            results = session.query(args.image, k=args.k, exclude_self=not args.include_self,
                                    **cli_similar.query_options(args))
    cli_similar.print_results(results, session, args.json)
    if not results:
        print(f"fashionrec: {cli_similar.explain_no_results(args)}", file=sys.stderr)
    return 0


def _index_before_reading(session: CatalogSession, args) -> None:
    """Bring the index up to date before reading it (quietly when nothing changed)."""
    report = session.index(progress=ProgressLine(), wait_for_lock=args.wait,
                           on_wait=_say_waiting(session), lock_only_for_changes=True)
    if report.embedded or report.removed or report.newly_skipped:
        print_report(report, sys.stderr)


def _search_whole_catalog(args, check, run, what: str) -> int:
    """neighbours and duplicates: check the arguments, bring the index up to date, `run(args, session, progress)`."""
    check(args)  # before any indexing
    with _session(args) as session:
        print(f"catalog {session.root}\nmodel   {session.embedder.describe()}", file=sys.stderr)
        _index_before_reading(session, args)
        return run(args, session, StepProgress(what))


def cmd_neighbours(args) -> int:
    return _search_whole_catalog(args, cli_similar.check_neighbours_arguments, cli_similar.run_neighbours,
                                 "searching tiles")


def cmd_duplicates(args) -> int:
    return _search_whole_catalog(args, cli_similar.check_duplicates_arguments, cli_similar.run_duplicates,
                                 "comparing tiles")


def cmd_eval(args) -> int:
    if args.tuned:
        if args.field not in (labels.DEFAULT_FIELD, args.tuned):
            raise UserError("--tuned FIELD scores that field: leave out --field, or give the same one.")
        args.field = args.tuned
    with _session(args) as session:
        labels_path = args.labels or labels.find_labels_file(session.root)
        if labels_path is None:
            raise UserError(f"No {labels.LABELS_FILENAME} in or beside {session.root}; pass --labels FILE.")
        by_filename = labels.load_labels(labels_path, args.field)  # checked before any indexing
        print(f"catalog {session.root}\nmodel   {session.embedder.describe()}\nlabels  {labels_path}",
              file=sys.stderr)
        _index_before_reading(session, args)
        relpaths, vectors = session.store.load_vectors()
        match = labels.match_labels(relpaths, by_filename)
        result = evaluate(relpaths, vectors, match, args.k, args.field)
        tuned = None
        if args.tuned:
            tuned = evaluate(relpaths, vectors, match, args.k, args.field, rank=cli_tuned.cross_fitted)
    print(f"model: {session.embedder.describe()}")
    print(format_report(result))
    if tuned is not None:
        print("\n" + tuning.format_comparison(result, tuned))
    if args.sheet:
        rows = contact_sheet(result, session.root, args.sheet, args.sheet_rows, args.seed)
        print(f"contact sheet of {rows} random queries (seed {args.seed}): {args.sheet}")
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench

    if args.neighbours:
        from .bench.neighbours import run_neighbours_bench

        run_neighbours_bench(args.images)
        return 0
    if args.fidelity:
        from .bench.fidelity import run_fidelity
        from .bench.inputs import DEFAULT_IMAGES

        run_fidelity(args.images or DEFAULT_IMAGES, weights_or_found(args), limit=args.n)
        return 0
    if args.model == "resnet50" and args.weights is None and args.random_weights is None:
        args.random_weights = 0  # speed does not depend on the weights' values (labelled as random)
    if args.duplicates:
        from .bench.duplicates import run_duplicates_bench

        run_duplicates_bench([args.make_embedder(args)], args.images, args.sources, args.seed, originals=args.n)
        return 0
    if args.model != "resnet50":
        raise UserError("The bench measures the resnet50 model (the seed recipe); use --model resnet50.")
    extra_sections, embedder, n = [], None, args.n or BENCH_DEFAULT_N
    if args.precision == "int8":
        from .bench import precision

        embedder = precision.int8_embedder(weights_or_found(args), args.images, n)
        extra_sections.append(precision.versus_fp32)
    if args.scale:
        from .bench import scale

        extra_sections.append(functools.partial(scale.section, items=args.scale_items))
    run_bench(embedder or args.make_embedder(args), images=args.images, n=n, batch_size=args.batch_size,
              compare_backends=args.compare_backends, extra_sections=extra_sections)
    return 0


def _index_arguments(p) -> None:
    p.add_argument("folder")
    p.add_argument("--batch-size", type=count, default=DEFAULT_BATCH_SIZE)
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    if not getattr(sys, "frozen", False):  # the packaged app carries no Ray (it is the `cluster` extra)
        p.add_argument("--engine", choices=("local", "ray"),
                       help="where decode + embed run: this process, or a Ray cluster (pip install -e '.[cluster]')")
        p.add_argument("--address", metavar="ADDR", help="the Ray cluster to use with --engine ray, e.g. "
                       "ray://head:10001 or head:6379 (default: $RAY_ADDRESS, else a Ray started on this machine)")
    p.set_defaults(engine="local", address=None)  # also where the options are not offered
    add_model_options(p)
    add_precision_option(p)


def _query_arguments(p) -> None:
    p.add_argument("image")
    p.add_argument("--catalog", required=True, metavar="FOLDER")
    p.add_argument("-k", type=count, default=DEFAULT_K, help="how many results (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {rank, path, distance}")
    p.add_argument("--include-self", action="store_true", help="keep the query file if it is in the catalog")
    cli_similar.add_query_arguments(p)
    cli_tuned.add_tuned_option(p, "search in a space tuned to this column of the labels CSV (fitted once, cached)")
    p.add_argument("--labels", metavar="CSV", help="labels CSV for --tuned (default: labels.csv in or beside the "
                   "catalog)")
    add_model_options(p)
    add_precision_option(p)


def _bench_arguments(p) -> None:
    p.add_argument("--images", metavar="DIR", type=Path,
                   help="photos to index (default: the fashion-2k sample when present, else generated)")
    p.add_argument("-n", type=count,
                   help=f"how many photos (default {BENCH_DEFAULT_N}; with --duplicates or --fidelity all)")
    p.add_argument("--batch-size", type=count, default=DEFAULT_BATCH_SIZE)
    p.add_argument("--compare-backends", action="store_true", help="also time the backends not in use")
    extra = p.add_mutually_exclusive_group()
    extra.add_argument("--neighbours", action="store_true", help="instead: time `neighbours` on a synthetic 44k "
                       "store and on the sample (colour-texture)")
    extra.add_argument("--duplicates", action="store_true", help="instead: precision and recall of --model's "
                       "duplicate thresholds on planted copies of the photos")
    extra.add_argument("--fidelity", action="store_true", help="instead: how close int8 vectors are to fp32 "
                       "ones on the photos (-n of them, evenly; default all) for the weights given or found")
    p.add_argument("--sources", type=count, default=100, metavar="N", help="photos copied for --duplicates")
    p.add_argument("--seed", type=int, default=0, help="picks the photos copied for --duplicates")
    p.add_argument("--scale", action="store_true", help="also the compact index at a million items (needs "
                   "~12 GB of disk in the temp folder and a few minutes)")
    p.add_argument("--scale-items", type=count, default=1_000_000, metavar="N",
                   help="items of the synthetic catalog of --scale (default %(default)s)")
    add_model_options(p)
    add_precision_option(p)


def _eval_arguments(p) -> None:
    p.add_argument("folder")
    p.add_argument("--labels", metavar="CSV", help="CSV with a filename column (default: labels.csv in or "
                   "beside the folder)")
    p.add_argument("--field", default=labels.DEFAULT_FIELD, help="the CSV column that is the label")
    p.add_argument("-k", type=count, default=DEFAULT_K)
    p.add_argument("--sheet", metavar="PNG", help="also draw a contact sheet of random queries and results")
    p.add_argument("--sheet-rows", type=count, default=8, metavar="N", help="queries on the contact sheet")
    p.add_argument("--seed", type=int, default=0, help="picks the contact sheet's queries")
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    cli_tuned.add_tuned_option(p, "also score a space tuned to this column, cross-fitted (never fitted on its queries)")
    add_model_options(p)
    add_precision_option(p)


_HANDLERS = {  # name → (its arguments, what it runs); the names and help come from commands.COMMANDS
    "index": (_index_arguments, cmd_index),
    "query": (_query_arguments, cmd_query),
    "info": (cli_caches.info_arguments, cli_caches.cmd_info),
    "forget": (cli_caches.forget_arguments, cli_caches.cmd_forget),
    "eval": (_eval_arguments, cmd_eval),
    "bench": (_bench_arguments, cmd_bench),
    "neighbours": (cli_similar.neighbours_arguments, cmd_neighbours),
    "duplicates": (cli_similar.duplicates_arguments, cmd_duplicates),
}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=program_name(), description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
        add_arguments, run = _HANDLERS[name]
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def _streams_present() -> None:
    """A windowed app on Windows has no stdout/stderr (None): writes go nowhere instead of crashing."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - open for the process's life


def _quiet_after_broken_pipe() -> int:
    """The reader of our output has gone (`… | head -1`): the standard recipe. Point stdout at devnull so
    the interpreter's final flush cannot fail again, and exit like any Unix tool cut off by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return SIGPIPE_EXIT


def main(argv: list[str] | None = None, make_embedder: Callable[[argparse.Namespace], Embedder] = embedder_from) -> int:
    """Runs one command; `make_embedder(args)` builds the embedder the options ask for (tests pass their own)."""
    _streams_present()
    args = build_parser().parse_args(argv)
    args.make_embedder = make_embedder
    setup_logging()
    if hasattr(sys.stdout, "reconfigure"):  # file names any console can show (e.g. cp1252 when redirected)
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except UserError as err:
        hint = " Or add --wait to wait for it." if isinstance(err, CatalogBusy) and hasattr(args, "wait") else ""
        print(f"fashionrec: {err}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nfashionrec: interrupted; every finished batch is saved and the next run resumes.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
