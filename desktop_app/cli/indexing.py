"""`index`: embed a catalog folder's new and changed photos (locally, or on a Ray cluster)."""

from __future__ import annotations

import sys

from ..core.errors import UserError
from ..core.ray_cluster import check_reachable, import_ray
from ..core.ray_engine import RayEngine
from . import interrupted
from .options import add_batch_size_option, add_model_options, add_precision_option
from .progress import ProgressLine, print_report
from .sessions import open_session, print_catalog_and_model, say_waiting


def cmd_index(args) -> int:
    if args.address and args.engine != "ray":
        raise UserError("--address is the Ray cluster's address: use it with --engine ray.")
    if args.engine == "ray":
        import_ray()  # without Ray: how to install it, before anything is opened
        if args.address:
            check_reachable(args.address)  # a wrong address: one line now, not minutes of Ray retrying
    with open_session(args) as session:
        print_catalog_and_model(session)
        with interrupted.during(args, interrupted.INDEXING):
            report = session.index(wait_for_lock=args.wait, on_wait=say_waiting(session), batch_size=args.batch_size,
                                   progress=ProgressLine(),
                                   engine=RayEngine(args.address) if args.engine == "ray" else None)
    print_report(report)
    return 0


def index_arguments(p) -> None:
    p.add_argument("folder", help="the catalog folder: every photo in it and its subfolders")
    add_batch_size_option(p)
    p.add_argument("--wait", action="store_true", help="wait if another process is indexing this catalog")
    if not getattr(sys, "frozen", False):  # the packaged app carries no Ray (it is the `cluster` extra)
        p.add_argument("--engine", choices=("local", "ray"),
                       help="where decode + embed run: this process, or a Ray cluster (pip install -e '.[cluster]')")
        p.add_argument("--address", metavar="ADDR", help="the Ray cluster to use with --engine ray, e.g. "
                       "ray://head:10001 or head:6379 (default: $RAY_ADDRESS, else a Ray started on this machine)")
    p.set_defaults(engine="local", address=None)  # also where the options are not offered
    add_model_options(p)
    add_precision_option(p)


HANDLERS = {"index": (index_arguments, cmd_index)}
