"""Locks that keep two runs from interleaving on one outbox or one ledger.

Taken by `batch.run_batch` on `<outbox>/.reconcile.lock`, and by the
ledger (`reconcile.ledger.open_ledger(..., holder=...)`) on `<ledger>.lock`
beside a SQLite ledger, before anything is read or written (a PostgreSQL
ledger is locked in the database instead). A lock is a non-blocking exclusive `flock` on
a small file that holds who took it (pid, host, command, start time); the
kernel lets it go when the process ends, even on SIGKILL, so a crashed run
never leaves a stale lock. A second run gets `LockHeld` (exit 4) naming the
holder. A lock file that cannot be created (read-only or missing folder) is
a `JobError` (exit 3); on a full disk the lock holds without its note.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Iterator

from reconcile.errors import JobError, LockHeld
from reconcile.private import FILE_MODE, make_dirs


def _holder(fd: int) -> str:
    """Who holds the lock, in words, from what it wrote into the file."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f"`{data['command']}` (pid {data['pid']} on {data['host']}, since {data['started']})"
    except (ValueError, KeyError, TypeError, OSError):
        return "another process"


@contextlib.contextmanager
def hold(path: Path, command: str, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the `with` block, or raise LockHeld at once.

    `what` names the thing being protected in the message ("the outbox outbox/").
    """
    try:
        make_dirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as e:
        raise JobError(f"Could not create the lock file {path} for {what}: {e.strerror or e}.",
                       "Check that the folder exists and can be written.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"Another reconcile run holds the lock on {what}: {_holder(fd)}.",
                f"Wait for it to finish; the lock file is {path}.",
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        except OSError:
            pass  # the holder's name is a courtesy; the flock alone is the lock (full disk)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def hold_all(locks: list[tuple[Path, str]], command: str) -> Iterator[None]:
    """Hold several locks (path, what) in the order given; all or none."""
    with contextlib.ExitStack() as stack:
        for path, what in locks:
            stack.enter_context(hold(path, command, what))
        yield
