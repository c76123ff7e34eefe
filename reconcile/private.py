"""Private files: the modes every folder and file the program creates gets.

Everything `reconcile` writes (the outbox, the SQLite ledger, lock files)
holds henkilötunnus and is for the city's eyes only: folders are created
with mode 0o750 and files 0o640 (owner and group, masked by the umask).
Shared by `write` (the outbox), `ledger` and `lock`, which do not import
each other for it.
"""

from __future__ import annotations

from pathlib import Path

DIR_MODE = 0o750
FILE_MODE = 0o640


def make_dirs(path: Path) -> None:
    """Create a folder and any missing parents, each with DIR_MODE (masked by the umask)."""
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
