"""`python -m desktop_app`: opens the desktop app; with a CLI subcommand, runs the CLI instead;
`--self-test` runs desktop_app.selftest."""

import sys


def main() -> int:
    from .cli.commands import COMMANDS  # the names only: the CLI itself loads when a command is run

    if sys.argv[1:] == ["--self-test"]:  # the packaged app's unattended check (build/build.sh runs it)
        from .selftest import main as self_test

        return self_test()
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
