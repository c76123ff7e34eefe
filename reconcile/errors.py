"""Named exceptions that carry the contract's exit codes (CONTRACT.md section 6).

The library raises these; only `cli.py` turns them into a message on stderr
and an exit status. Bad *input workbooks* never raise: they become findings.
"""

from __future__ import annotations


class ReconcileError(Exception):
    """A command could not do its job. `exit_code` is the contract's status."""

    exit_code = 3

    def __init__(self, message: str, remedy: str | None = None):
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:  # one or two plain sentences
        return self.message if not self.remedy else f"{self.message} {self.remedy}"


class UsageError(ReconcileError):
    """The command line asked for something that does not make sense (exit 2)."""

    exit_code = 2


class JobError(ReconcileError):
    """The job could not be done: missing register, bad config, full disk (exit 3)."""

    exit_code = 3


class ConfigError(JobError):
    """A configuration file is missing a block, has an unknown key or a bad value."""


class RegisterError(JobError):
    """A register is missing, unreadable or holds a value that cannot be trusted."""


class LedgerError(JobError):
    """The ledger is corrupt, of a newer version, or cannot be written."""


class LockHeld(ReconcileError):
    """Another run holds the lock on this outbox or ledger (exit 4)."""

    exit_code = 4
