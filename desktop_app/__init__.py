"""fashionrec: find look-alike fashion items in a local catalog of product photos."""

__version__ = "0.1.0"
