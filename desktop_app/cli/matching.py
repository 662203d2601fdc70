"""`match`: every photo of a folder against a catalog, to a .csv/.jsonl file or as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys

from ..core.export import check_output
from ..core.filters import parse_conditions
from ..core.indexer import DEFAULT_BATCH_SIZE
from ..core.matching import Matches, match_folder, match_rows, query_files, write_matches
from ..core.search import DEFAULT_K
from ..core.session import CatalogSession
from .options import add_filter_arguments, add_model_options, add_precision_option, count, distance
from .progress import ProgressLine
from .sessions import index_before_reading, open_to_read, print_catalog_and_model


def cmd_match(args) -> int:
    if args.out:
        check_output(args.out)  # before any indexing or decoding
    where = parse_conditions(args.where)
    query_files(args.query_folder)  # a missing or empty query folder is said before the catalog is indexed
    args.folder = args.catalog
    with open_to_read(args) as session:
        print_catalog_and_model(session)
        index_before_reading(session, args)
        matches = match_folder(session, args.query_folder, args.k, where, args.max_distance, args.batch_size,
                               progress=ProgressLine(what="matching"))
        report(args, session, matches)
    return 0


def report(args: argparse.Namespace, session: CatalogSession, matches: Matches) -> None:
    labels = session.labels
    out = sys.stderr if args.json else sys.stdout
    if args.out:
        rows = write_matches(args.out, matches, labels)
        print(f"wrote {rows:,} rows ({len(matches.queries):,} query photos × up to {args.k} items) to {args.out}",
              file=out)
    if args.json:
        print(json.dumps(list(match_rows(matches, labels)), indent=1, ensure_ascii=False))
    unmatched = sum(1 for _, best in matches.best() if best is None)
    limit = f"; {unmatched} with no item within distance {args.max_distance:g}" if args.max_distance is not None \
        else ""
    print(f"matched {len(matches.queries):,} photos of {matches.folder} in {matches.elapsed:.1f} s{limit}; "
          f"{len(matches.skipped)} skipped", file=out)
    for relpath, reason in matches.skipped:
        print(f"  skipped {relpath}: {reason}", file=out)


def match_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query_folder", metavar="QUERY_FOLDER", help="the photos to match (searched recursively; "
                   "they are not added to the catalog)")
    p.add_argument("--catalog", required=True, metavar="FOLDER", help="the catalog folder to match against (indexed "
                   "first if needed)")
    output = p.add_mutually_exclusive_group(required=True)
    output.add_argument("--out", metavar="FILE", help="the file to write: .csv or .jsonl (query, rank, item, distance, "
                   "then the item's label columns)")
    output.add_argument("--json", action="store_true", help="print the rows as a JSON list on stdout")
    p.add_argument("-k", type=count, default=DEFAULT_K, help="catalog items per photo (default %(default)s)")
    add_filter_arguments(p)
    p.add_argument("--max-distance", type=distance, metavar="D", help="leave out items farther than D (a photo with "
                   "none left gets one row with an empty item: a new product)")
    p.add_argument("--batch-size", type=count, default=DEFAULT_BATCH_SIZE, help="photos embedded at a time")
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    add_model_options(p)
    add_precision_option(p)


HANDLERS = {"match": (match_arguments, cmd_match)}
