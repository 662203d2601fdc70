"""fashionrec-cli's similarity extras: `neighbours` (similar items of every item, to a file), `duplicates`
(groups of near-identical photos), and the query's region and filter options (--crop, --where, --max-distance)."""

from __future__ import annotations

import argparse
import json
import sys

from .core.duplicates import DEFAULT_THRESHOLDS, default_threshold
from .core.export import check_output, export_neighbours
from .core.filters import parse_conditions
from .core.images import Crop
from .core.search import DEFAULT_K, Result
from .core.session import CatalogSession
from .options import add_model_options, add_precision_option, count


def distance(text: str) -> float:
    """argparse type of a distance: a number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of at least 0, got {text}")
    return value


def crop(text: str) -> Crop:
    try:
        return Crop.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--where", metavar="FIELD=VALUE", action="append", default=[],
                   help="only items with this label (labels.csv); repeat it: values of one field are alternatives, "
                        "different fields must all match")


def add_query_arguments(p: argparse.ArgumentParser) -> None:
    """query's --crop, --where and --max-distance."""
    p.add_argument("--crop", type=crop, metavar="X,Y,W,H",
                   help="search with this region of the photo only: pixels, or fractions 0-1 of its size")
    add_filter_arguments(p)
    p.add_argument("--max-distance", type=distance, metavar="D", help="leave out results farther than D")


def query_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of CatalogSession.query for these options."""
    return {"crop": args.crop, "where": parse_conditions(args.where), "max_distance": args.max_distance}


def explain_no_results(args: argparse.Namespace) -> str:
    if args.max_distance is not None:
        return f"No catalog item is within distance {args.max_distance:g} of the photo" + \
            (" among the items that pass the filter." if args.where else "; try a larger --max-distance.")
    return "No catalog item passes the filter." if args.where else "The catalog has no other item."


def print_results(results: list[Result], session: CatalogSession, as_json: bool) -> None:
    if as_json:
        print(json.dumps([{"rank": r.rank, "path": str(session.path_of(r.relpath)), "distance": round(r.distance, 6)}
                          for r in results], indent=2))
    else:
        for r in results:
            print(f"{r.rank}. {r.distance:.4f}  {session.path_of(r.relpath)}")


def check_neighbours_arguments(args: argparse.Namespace) -> None:
    """What can be checked before any indexing: the output file's name and folder, the filters' form."""
    check_output(args.out)
    parse_conditions(args.where)


def neighbours_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder")
    p.add_argument("-k", type=count, default=DEFAULT_K, help="similar items per item (default %(default)s)")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write: .csv or .jsonl")
    add_filter_arguments(p)
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    add_model_options(p)
    add_precision_option(p)


def run_neighbours(args: argparse.Namespace, session: CatalogSession, progress) -> int:
    report = export_neighbours(session, args.out, args.k, parse_conditions(args.where), progress=progress)
    print(f"wrote {report.rows:,} rows ({report.items:,} items × {report.k} similar items) to {report.path} "
          f"(search {report.search_seconds:.1f} s, writing {report.write_seconds:.1f} s)")
    return 0


def duplicates_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder")
    defaults = ", ".join(f"{model} {value:g}" for model, value in DEFAULT_THRESHOLDS.items())
    p.add_argument("--threshold", type=distance, metavar="D",
                   help=f"largest distance between near-duplicates (default per model, measured: {defaults})")
    p.add_argument("--json", action="store_true", help="print a JSON list of {items, widest_link}")
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    add_model_options(p)
    add_precision_option(p)


def check_duplicates_arguments(args: argparse.Namespace) -> None:
    """Before any indexing: a model without a measured default threshold needs --threshold."""
    if args.threshold is None:
        default_threshold(args.model)


def run_duplicates(args: argparse.Namespace, session: CatalogSession, progress) -> int:
    threshold = args.threshold if args.threshold is not None else default_threshold(session.embedder.name)
    groups = session.duplicates(threshold, progress)
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
