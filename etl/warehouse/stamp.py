"""The staging stamp: a digest of the code and data that decide a file's staged rows.

Every outcome records the stamp of the reader and rules that staged it, and the ledger
keeps it per file. A file whose stamp is not the current one (an older release staged it,
or none: 90c1f14 recorded no stamp) is staged again from its raw copy on the next run.
When in doubt a source is in: a needless restage costs a minute, a stale file a wrong
warehouse.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

from etl.config import CONFIG_DIR, EXPECTATIONS_DIR, REFERENCE_DIR, Limits

# The package itself (a checkout's etl/ or the installed one): the data folders may live
# elsewhere (etl.config), so each source is named relative to its own root.
_PACKAGE = Path(__file__).resolve().parent.parent
# The libraries that read cells, build frames, judge rules and write the staged rows.
_LIBRARIES = ("python-calamine", "pandas", "great-expectations", "duckdb")


def stamp_sources() -> list[tuple[str, Path]]:
    """(name, file) of each file whose content decides staged rows and outcomes, in a fixed
    order: the reader, the contract (layout, findings, reference), the row rules and how
    staging judges and writes them; the suites of the file rules (not the warehouse checks,
    which run after loading); the reference units; tables the rules read from `config/`.
    """
    code = [
        *(_PACKAGE / "read").glob("*.py"),
        *(_PACKAGE / "contract").glob("*.py"),
        _PACKAGE / "quality" / "validate.py",
        _PACKAGE / "quality" / "narrow.py",  # which rows GX judges
        _PACKAGE / "warehouse" / "staging.py",
        _PACKAGE / "text.py",
    ]
    data = [
        *EXPECTATIONS_DIR.glob("*.json"),
        *REFERENCE_DIR.glob("*.csv"),
        *CONFIG_DIR.glob("*.csv"),
    ]
    named = {f"etl/{p.relative_to(_PACKAGE).as_posix()}": p for p in code if p.is_file()}
    named |= {f"{p.parent.name}/{p.name}": p for p in data if p.is_file()}
    return sorted(named.items())


@functools.cache
def staging_stamp(limits: Limits | None = None) -> str:
    """The current stamp: once per process (and per limits, which also decide outcomes)."""
    digest = hashlib.sha256()
    for name, path in stamp_sources():
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for library in _LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{library}=={version}\0".encode())
    digest.update(repr(limits or Limits()).encode())
    return digest.hexdigest()[:20]
