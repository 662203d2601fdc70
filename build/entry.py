"""PyInstaller's entry script: the frozen `fashionrec` runs exactly what `python -m desktop_app` runs."""

import sys

from desktop_app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
