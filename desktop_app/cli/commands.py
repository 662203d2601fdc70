"""The CLI's subcommands and their one-line help, kept light (no argparse handlers, no core imports):
`python -m desktop_app` reads the names from here to decide between the window and the CLI, and program.py
builds the parser from the same table (each command's arguments and handler are in its group's module)."""

from __future__ import annotations

import sys
from pathlib import Path

COMMANDS = {
    "index": "index (or update the index of) a catalog folder",
    "query": "the catalog items most similar to a photo",
    "info": "what is cached: every catalog (its folder, models, items, size), or one catalog folder",
    "forget": "delete the cache of a catalog folder (also of one that is gone), or of every missing one",
    "eval": "leave-one-out precision@k / mAP@k of a catalog against a labels CSV",
    "bench": "measure indexing and query speed on this machine (a few minutes)",
    "neighbours": "write the k most similar items of every catalog item to a .csv or .jsonl file",
    "duplicates": "groups of near-identical photos in a catalog (re-encoded, resized, slightly cropped copies)",
    "match": "the k most similar catalog items of every photo in a folder, to a .csv or .jsonl file",
}


def program_name() -> str:
    """The name the person ran, for usage lines: fashionrec-cli, fashionrec (the packaged app), or the module."""
    name = Path(sys.argv[0] if sys.argv and sys.argv[0] else "fashionrec-cli").name
    if name.lower().endswith(".exe"):
        name = name[:-4]
    if name == "__main__.py":  # python -m desktop_app, or python -m desktop_app.cli
        return "python -m desktop_app.cli" if Path(sys.argv[0]).parent.name == "cli" else "python -m desktop_app"
    return name
