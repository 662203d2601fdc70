"""`query`: the catalog items most similar to a photo, or to a region of it, with filters, a distance limit, or in
a space tuned to the labels."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import astuple

from ..core.errors import UserError
from ..core.filters import parse_conditions
from ..core.query import Query
from ..core.search import DEFAULT_K, Result
from ..core.session import CatalogSession
from . import tuned
from .options import (
    add_filter_arguments,
    add_labels_option,
    add_model_options,
    add_precision_option,
    count,
    crop,
    distance,
    say_default_model,
)
from .sessions import open_session


def cmd_query(args) -> int:
    args.folder = args.catalog
    if not all(image.strip() for image in args.images):
        raise UserError("No query photo given (the name is empty).")
    if args.crop and args.crop.fractions and all(float(v).is_integer() for v in astuple(args.crop)):
        print(f"note: --crop {args.crop} is read as fractions of the photo's width and height (all four numbers are "
              "0 or 1); a region in pixels has a number above 1.", file=sys.stderr)
    with open_session(args, read_only=True, say_model=False) as session:
        query = Query(args.images[0], k=args.k, crop=args.crop, where=parse_conditions(args.where),
                      max_distance=args.max_distance, tuned=args.tuned, exclude_self=not args.include_self,
                      more_images=tuple(args.images[1:]), liked=tuple(catalog_item(session, i) for i in args.like),
                      disliked=tuple(catalog_item(session, i) for i in args.unlike))
        if args.tuned:
            tuned.tuning_of(session, args.tuned)  # fitted now (saying so) or read from its cache
        results = session.search(query)
    say_default_model(args)  # once the photos and items were found usable: a mistake in them stays one line
    print_results(results, session, args.json)
    if not results:
        print(f"fashionrec: {explain_no_results(args)}", file=sys.stderr)
    return 0


def catalog_item(session: CatalogSession, item: str) -> str:
    """An item named on the command line: its path relative to the catalog, or a path to the file in it."""
    if session.searcher.position(item) is not None:
        return item
    relpath = session.relpath_in_catalog(item)
    if relpath is None or session.searcher.position(relpath) is None:
        raise UserError(f"{item} is not an indexed item of the catalog {session.root} (give its path relative to "
                        "the catalog folder, or the path of the file in it).")
    return relpath


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


def query_arguments(p) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE", help="the photo to search with (any file, in the catalog "
                   "or not), or several: searched together (the mean of their vectors)")
    p.add_argument("--like", metavar="ITEM", action="append", default=[],
                   help="more like this catalog item (its path in the catalog); repeatable (Rocchio feedback)")
    p.add_argument("--unlike", metavar="ITEM", action="append", default=[],
                   help="less like this catalog item; repeatable")
    p.add_argument("--catalog", required=True, metavar="FOLDER", help="the indexed catalog folder to search")
    p.add_argument("-k", type=count, default=DEFAULT_K, help="how many results (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {rank, path, distance}")
    p.add_argument("--include-self", action="store_true", help="keep the query file if it is in the catalog")
    p.add_argument("--crop", type=crop, metavar="X,Y,W,H",
                   help="search with this region of the photo only: pixels, or fractions 0-1 of its size")
    add_filter_arguments(p)
    p.add_argument("--max-distance", type=distance, metavar="D", help="leave out results farther than D")
    tuned.add_tuned_option(p, "search in a space tuned to this column of the labels CSV (fitted once, cached)")
    add_labels_option(p, "--where and --tuned")
    add_model_options(p)
    add_precision_option(p)


HANDLERS = {"query": (query_arguments, cmd_query)}
