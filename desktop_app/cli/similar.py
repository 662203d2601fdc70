"""`neighbours` (the similar items of every item, to a file) and `duplicates` (groups of near-identical photos):
commands that search the whole catalog after bringing its index up to date."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.duplicates import DEFAULT_THRESHOLDS, default_threshold
from ..core.export import check_output, export_neighbours
from ..core.filters import parse_conditions
from ..core.search import DEFAULT_K
from ..core.session import CatalogSession
from . import interrupted
from .options import (
    add_catalog_to_read,
    add_filter_arguments,
    add_labels_option,
    add_model_options,
    add_precision_option,
    count,
    distance,
)
from .progress import StepProgress
from .sessions import index_before_reading, open_to_read, print_catalog_and_model


def check_neighbours_arguments(args: argparse.Namespace) -> None:
    """What can be checked before any indexing: the output file's name and folder, the filters' form."""
    check_output(args.out)
    parse_conditions(args.where)


def neighbours_arguments(p: argparse.ArgumentParser) -> None:
    add_catalog_to_read(p)
    p.add_argument("-k", type=count, default=DEFAULT_K, help="similar items per item (default %(default)s)")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write: .csv or .jsonl")
    add_filter_arguments(p)
    add_labels_option(p, "--where and the label columns of each row")
    add_model_options(p)
    add_precision_option(p)


def run_neighbours(args: argparse.Namespace, session: CatalogSession, progress) -> int:
    where = parse_conditions(args.where)
    allowed = session.allowed(where)
    items = len(session.searcher) if allowed is None else int(allowed.sum())
    if args.k >= items > 1:
        print(f"note: -k {args.k:,} is more than the {items - 1:,} other items: each item gets all of them.",
              file=sys.stderr)
    out = Path(args.out)
    kept = "the file there before is unchanged" if out.exists() else "no file was written"
    with interrupted.during(args, f"{out} was not written ({kept})"):
        report = export_neighbours(session, out, args.k, where, progress=progress,
                                   write_progress=StepProgress(f"writing {out.name}"))
    print(f"wrote {report.rows:,} rows ({report.items:,} items × {report.k} similar items) to {report.path} "
          f"(search {report.search_seconds:.1f} s, writing {report.write_seconds:.1f} s)")
    return 0


def duplicates_arguments(p: argparse.ArgumentParser) -> None:
    add_catalog_to_read(p)
    defaults = ", ".join(f"{model} {value:g}" for model, value in DEFAULT_THRESHOLDS.items())
    p.add_argument("--threshold", type=distance, metavar="D",
                   help=f"largest distance between near-duplicates (default per model, measured: {defaults})")
    p.add_argument("--json", action="store_true", help="print a JSON list of {items, widest_link}")
    add_model_options(p)
    add_precision_option(p)


def check_duplicates_arguments(args: argparse.Namespace) -> None:
    """Before any indexing: a model without a measured default threshold needs --threshold."""
    if args.threshold is None:
        default_threshold(args.model)


def run_duplicates(args: argparse.Namespace, session: CatalogSession, progress) -> int:
    threshold = args.threshold if args.threshold is not None else default_threshold(session.embedder.name)
    groups = session.duplicates(threshold, progress)
    assert groups is not None  # only a cancelled search gives None, and this one has no cancel
    if args.json:
        print(json.dumps([{"items": [str(session.path_of(r)) for r in g.relpaths],
                           "widest_link": round(g.widest_link, 6)} for g in groups], indent=2))
    else:
        for number, group in enumerate(groups, start=1):
            print(f"group {number}: {len(group)} items, farthest link {group.widest_link:.4f}")
            for relpath in group.relpaths:
                print(f"  {session.path_of(relpath)}")
    source = "" if args.threshold is not None else f", the default for {session.embedder.name}"
    print(f"{len(groups)} group(s) of near-duplicates, {sum(len(g) for g in groups)} items, among "
          f"{len(session.searcher):,} items at distance <= {threshold:g}{source}",
          file=sys.stderr if args.json else sys.stdout)
    return 0


def _search_whole_catalog(args, check, run, what: str) -> int:
    """Check the arguments, bring the index up to date, then `run(args, session, progress)`."""
    check(args)  # before any indexing
    with open_to_read(args) as session:
        print_catalog_and_model(session)
        index_before_reading(session, args)
        return run(args, session, StepProgress(what))


def cmd_neighbours(args) -> int:
    return _search_whole_catalog(args, check_neighbours_arguments, run_neighbours, "searching tiles")


def cmd_duplicates(args) -> int:
    return _search_whole_catalog(args, check_duplicates_arguments, run_duplicates, "comparing tiles")


HANDLERS = {"neighbours": (neighbours_arguments, cmd_neighbours), "duplicates": (duplicates_arguments, cmd_duplicates)}
