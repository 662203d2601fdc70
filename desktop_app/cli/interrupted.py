"""What an interrupted command (Ctrl+C, SIGTERM) leaves behind, said in the line it ends with: each command tells
what it is doing while it does it (`during(args, …)`), and the message names what that phase keeps."""

from __future__ import annotations

import argparse
import contextlib

INDEXING = "every finished batch is saved and the next run resumes"


@contextlib.contextmanager
def during(args: argparse.Namespace, what_is_kept: str):
    """While the block runs, an interruption says `what_is_kept` (e.g. INDEXING); before and after it, nothing."""
    previous = getattr(args, "interrupted_keeps", "")
    args.interrupted_keeps = what_is_kept
    yield
    args.interrupted_keeps = previous  # not on an interruption: the message reads it after the block


def what_is_kept(args: argparse.Namespace) -> str:
    return getattr(args, "interrupted_keeps", "")
