"""fashionrec-cli: index a catalog folder, query it with a photo, inspect or forget what is cached.

Builds the parser from the command table (commands.COMMANDS: names and help; each group module's HANDLERS:
arguments and handler) and runs one command with the exit codes docs/cli.md documents."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable

from ..core.embedders import Embedder
from ..core.errors import UserError
from ..core.logs import setup_logging
from ..core.store_io import CatalogBusy
from . import benchmark, caches, evaluation, indexing, interrupted, matching, searching, similar
from .commands import COMMANDS, program_name
from .options import Parser, choose_default_model
from .sessions import embedder_from

log = logging.getLogger("fashionrec.cli")
SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what `cat`, `grep` … report when the reader of their output has gone
INTERRUPTED_EXIT, TERMINATED_EXIT = 130, 143  # 128 + SIGINT, 128 + SIGTERM, as shells report them
HANDLERS = {**indexing.HANDLERS, **searching.HANDLERS, **caches.HANDLERS, **evaluation.HANDLERS,
            **benchmark.HANDLERS, **similar.HANDLERS, **matching.HANDLERS}  # name → (its arguments, what it runs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=program_name(), description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
        add_arguments, run = HANDLERS[name]
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


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a service manager, a closing terminal session): handled as Ctrl+C is, so every cleanup that
    Ctrl+C runs (whole batches kept, temporary files removed) runs for it too."""


def _raise_terminated(signum, frame):
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises Terminated in the main thread while the command runs (only there can Python set it)."""
    if not hasattr(signal, "SIGTERM") or sys.platform == "win32":
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (main() called from a worker thread): leave SIGTERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None, make_embedder: Callable[[argparse.Namespace], Embedder] = embedder_from) -> int:
    """Runs one command; `make_embedder(args)` builds the embedder the options ask for (tests pass their own)."""
    _streams_present()
    args = build_parser().parse_args(argv)
    args.make_embedder = make_embedder
    setup_logging()
    if hasattr(sys.stdout, "reconfigure"):  # file names any console can show (e.g. cp1252 when redirected)
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        choose_default_model(args)  # may look for ResNet50's weights: inside, so its errors are one line
        with _sigterm_as_interrupt():
            code = args.run(args)
            sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except UserError as err:
        hint = " Or add --wait to wait for it." if isinstance(err, CatalogBusy) and hasattr(args, "wait") else ""
        print(f"fashionrec: {err}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        what = "terminated" if isinstance(stop, Terminated) else "interrupted"
        after = interrupted.what_is_kept(args)
        print(f"\nfashionrec: {what}{'; ' + after if after else ''}.", file=sys.stderr)
        return TERMINATED_EXIT if isinstance(stop, Terminated) else INTERRUPTED_EXIT
