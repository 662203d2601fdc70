"""`python -m desktop_app`: opens the desktop app; with a CLI subcommand, runs the CLI instead."""

import sys


def main() -> int:
    from .cli import COMMANDS

    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        from .cli import main as cli_main

        return cli_main(sys.argv[1:])
    try:
        from .ui.app import run
    except ImportError as err:  # GUI not built yet
        print(f"fashionrec: the desktop window is not available ({err}); use fashionrec-cli", file=sys.stderr)
        return 1
    return run(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
