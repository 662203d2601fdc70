"""The cache commands: `info` (what is cached, for one catalog or all of them) and `forget`."""

from __future__ import annotations

import json
from pathlib import Path

from ..core import caches
from ..core.catalog import catalog_root
from ..core.embedders.precision import precision_note
from ..core.errors import UserError
from ..core.paths import data_dir
from .commands import program_name
from .sessions import cached_name


def _catalog_key(folder: str) -> Path:
    """A catalog folder's identity (its resolved path), also for a folder that no longer exists."""
    path = Path(folder).expanduser()
    return catalog_root(path) if path.exists() else path.resolve()


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _print_catalog(catalog: caches.CachedCatalog, details: bool) -> None:
    state = "  (folder no longer exists)" if catalog.missing else \
        "" if catalog.root else "  (its caches cannot be read, so its folder is unknown)"
    print(f"catalog {catalog.root or '(unknown folder)'}{state}")
    for s in catalog.stores:
        if s.error:
            print(f"  {s.model:<15} {_mib(s.bytes):>10}  {s.error}")
            continue
        print(f"  {cached_name(s):<15} {_mib(s.bytes):>10}  {s.items} items, {s.skipped} skipped")
        if details:
            print(f"    {s.path}\n    {json.dumps(s.fingerprint, sort_keys=True)}")


def cmd_info(args) -> int:
    if args.folder:
        key = _catalog_key(args.folder)
        catalog = caches.cached_catalog(key)
        if not catalog.stores:
            if not key.exists():
                raise UserError(f"Catalog folder not found: {key} (and nothing is cached for it).")
            print(f"catalog {key}\nnot indexed yet")
            return 0
        _print_catalog(catalog, details=True)
        return 0
    catalogs = caches.list_catalogs()
    for catalog in catalogs:
        _print_catalog(catalog, details=False)
    print(precision_note())
    missing = sum(c.missing for c in catalogs)
    print(f"{len(catalogs)} cached catalog(s), {_mib(sum(c.bytes for c in catalogs))} in {data_dir()}"
          + (f"; {missing} whose folder is gone: `{program_name()} forget --missing` removes their caches"
             if missing else ""))
    return 0


def cmd_forget(args) -> int:
    if args.missing and args.folder:
        raise UserError("Give a catalog FOLDER or --missing, not both.")
    if not args.missing and not args.folder:
        raise UserError("Give the catalog FOLDER whose cache to delete, or --missing (the caches of every catalog "
                        "whose folder is gone).")
    if args.missing:
        gone = caches.forget_missing()
        for catalog in gone:
            print(f"forgot {catalog.root} ({', '.join(catalog.models())}; {_mib(catalog.bytes)})")
        print(f"{len(gone)} cache(s) of missing folders removed")
        return 0
    root = _catalog_key(args.folder)
    size = caches.cached_catalog(root).bytes
    removed = caches.forget_catalog(root)
    print(f"forgot {removed} cache(s) of {root} ({_mib(size)})" if removed else f"nothing cached for {root}")
    return 0


def info_arguments(p) -> None:
    p.add_argument("folder", nargs="?", help="one catalog folder (default: list every cached catalog)")


def forget_arguments(p) -> None:
    p.add_argument("folder", nargs="?", help="the catalog folder (it may no longer exist)")
    p.add_argument("--missing", action="store_true", help="forget every catalog whose folder no longer exists")


HANDLERS = {"info": (info_arguments, cmd_info), "forget": (forget_arguments, cmd_forget)}
