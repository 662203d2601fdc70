"""fashionrec-cli: one module per command group (indexing, searching, similar, evaluation, benchmark, caches),
the options they share (options.py), and the command table (commands.py: names and help, light enough for
`python -m desktop_app` to read without loading the rest). `program.py` builds the parser and runs a command."""

from __future__ import annotations


def main(argv: list[str] | None = None, **options) -> int:
    """Runs one command (program.main); kept light so importing the package loads nothing else."""
    from .program import main as run

    return run(argv, **options)
