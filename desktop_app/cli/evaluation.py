"""`eval`: leave-one-out precision@k / mAP@k of a catalog against a labels CSV (also in a tuned space)."""

from __future__ import annotations

import sys

from ..core import feedback, labels, tuning
from ..core.catalog_data import Catalog
from ..core.errors import UserError
from ..core.evaluate import contact_sheet, evaluate, format_report
from ..core.files import check_output_file
from ..core.search import DEFAULT_K
from . import tuned
from .options import (
    add_catalog_to_read,
    add_labels_option,
    add_model_options,
    add_precision_option,
    count,
    seed,
    whole_number,
)
from .sessions import index_before_reading, labels_file_from, open_to_read

MAX_SHEET_ROWS = 100  # a sheet to look at (100 rows are 17,000 px tall); 100,000 rows wrote a 167 MB PNG


def sheet_rows(text: str) -> int:
    return whole_number(text, 1, MAX_SHEET_ROWS, " (a sheet to look at; the report scores every query)")


def cmd_eval(args) -> int:
    if args.sheet:
        check_output_file(args.sheet, (".png",), "contact sheet")  # before the whole evaluation, not after
    if args.tuned:
        if args.field not in (labels.DEFAULT_FIELD, args.tuned):
            raise UserError("--tuned FIELD scores that field: leave out --field, or give the same one.")
        args.field = args.tuned
    catalog = Catalog.open(args.folder, labels_file=labels_file_from(args))
    labels_path = catalog.labels_path
    if labels_path is None:
        raise UserError(f"No {labels.LABELS_FILENAME} in or beside {catalog.root}; pass --labels FILE.")
    labels.read_label_table(labels_path, []).column(args.field, [])  # checked before any indexing
    with open_to_read(args) as session:
        print(f"catalog {session.root}\nlabels  {labels_path}", file=sys.stderr)  # the model: in the report
        index_before_reading(session, args)
        relpaths, vectors = session.store.load_vectors()
        table = session.labels
        assert table is not None  # the catalog has a labels file
        match = table.column(args.field, relpaths)
        result = evaluate(relpaths, vectors, match, args.k, args.field)
        tuned_result = None
        if args.tuned:
            tuned_result = evaluate(relpaths, vectors, match, args.k, args.field, rank=tuned.cross_fitted)
        scores = feedback_scores(relpaths, vectors, match, args) if args.feedback_rounds else None
    print(f"model: {session.embedder.describe()}")
    print(format_report(result))
    if tuned_result is not None:
        print("\n" + tuning.format_comparison(result, tuned_result))
    if scores is not None:
        print("\n" + feedback.format_feedback(scores))
    if args.sheet:
        rows = contact_sheet(result, session.root, args.sheet, args.sheet_rows, args.seed)
        print(f"contact sheet of {rows} random queries (seed {args.seed}): {args.sheet}")
    return 0


def feedback_scores(relpaths, vectors, match, args) -> feedback.FeedbackScores:
    """precision@k of the labelled items with no feedback and after each simulated round (core/feedback.py)."""
    labelled = [i for i, relpath in enumerate(relpaths) if relpath in match.labels]
    return feedback.feedback_rounds(vectors[labelled], [match.labels[relpaths[i]] for i in labelled],
                                    args.feedback_rounds, args.k)


def eval_arguments(p) -> None:
    add_catalog_to_read(p)
    add_labels_option(p, "the scores and --tuned")
    p.add_argument("--field", default=labels.DEFAULT_FIELD, help="the CSV column that is the label")
    p.add_argument("-k", type=count, default=DEFAULT_K, help="results scored per query (default %(default)s)")
    p.add_argument("--sheet", metavar="PNG", help="also draw a contact sheet of random queries and results")
    p.add_argument("--sheet-rows", type=sheet_rows, default=8, metavar="N",
                   help=f"queries on the contact sheet (default %(default)s, at most {MAX_SHEET_ROWS})")
    p.add_argument("--seed", type=seed, default=0, help="picks the contact sheet's queries")
    p.add_argument("--feedback-rounds", type=count, metavar="N", help="also score N rounds of simulated feedback: "
                   f"the person likes the top {feedback.JUDGED} results sharing the query's label and dislikes the "
                   "others (Rocchio)")
    tuned.add_tuned_option(p, "also score a space tuned to this column, cross-fitted (never fitted on its queries)")
    add_model_options(p)
    add_precision_option(p)


HANDLERS = {"eval": (eval_arguments, cmd_eval)}
