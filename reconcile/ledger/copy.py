"""`reconcile ledger copy SOURCE TARGET`: a whole ledger into an empty one, checked.

The source is opened read-only (it must be of this program's version: run
`reconcile ledger migrate` on it first otherwise); the target is created or
migrated, and its writer lock is held for the copy. A target that holds any
record is refused (exit 3): a copy never merges. Every table of
`schema.METADATA` but the bookkeeping ones is copied in foreign-key order,
in chunks, in ONE transaction on the target; before it commits, the rows of
every table, the days by state, the invoices and their euro totals (claimed,
approved, held, rejected) are counted on both sides, and any difference
rolls the copy back (exit 3). Tables that later versions add to METADATA are
copied with no change here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, select, text

from reconcile.errors import LedgerError
from reconcile.ledger import schema
from reconcile.ledger.schema import days, invoices
from reconcile.ledger.store import open_ledger

CHUNK = 20_000
NOT_COPIED = frozenset({"schema_version", "lock_holders"})  # each ledger's own


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]  # table -> rows copied
    totals: dict[str, int]  # the checked figures (days by state, invoices, euro totals in cents)


def tables() -> list[Table]:
    return [t for t in schema.METADATA.sorted_tables if t.name not in NOT_COPIED]


def figures(conn: Connection) -> dict[str, int]:
    """What must be equal in both ledgers: rows of every table, days by state, invoices and their euros."""
    out = {f"rows:{t.name}": conn.execute(select(func.count()).select_from(t)).scalar() for t in tables()}
    for state, n in conn.execute(select(days.c.state, func.count()).group_by(days.c.state)).all():
        out[f"days:{state}"] = n
    sums = conn.execute(select(func.count(), *(func.coalesce(func.sum(invoices.c[c]), 0) for c in
                                               ("claimed_cents", "approved_cents", "held_cents", "rejected_cents")))).one()
    out.update(zip(("invoices", "claimed_cents", "approved_cents", "held_cents", "rejected_cents"), map(int, sums)))
    return out


def copy_ledger(source: str, target: str) -> Copied:
    """Copy every record of `source` into the empty ledger `target`; raise LedgerError if it is not empty or differs."""
    with open_ledger(source, readonly=True) as src, open_ledger(target, holder="reconcile ledger copy") as dst:
        if src.location == dst.location or (src.path and dst.path and src.path.resolve() == dst.path.resolve()):
            raise LedgerError(f"The source and the target are the same ledger {dst.where}.")
        with src.transaction() as read, dst.transaction() as write:
            held = {t.name: n for t in tables() if (n := write.execute(select(func.count()).select_from(t)).scalar())}
            if held:
                raise LedgerError(
                    f"The target ledger {dst.where} is not empty: "
                    + ", ".join(f"{n} row(s) in {name}" for name, n in held.items()) + ".",
                    "Copy into a new file or an empty database; a copy never merges two ledgers.")
            rows = {}
            for table in tables():
                order = list(table.primary_key.columns) or list(table.columns)
                result = read.execute(select(table).order_by(*order).execution_options(yield_per=CHUNK))
                rows[table.name] = 0
                for chunk in result.mappings().partitions():
                    write.execute(table.insert(), [dict(r) for r in chunk])
                    rows[table.name] += len(chunk)
            before, after = figures(read), figures(write)
            if before != after:
                wrong = ", ".join(f"{k} {before.get(k)} in the source but {after.get(k)} in the copy"
                                  for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k))
                raise LedgerError(f"The copy of {src.where} into {dst.where} does not match: {wrong}.",
                                  "Nothing was copied.")
            if dst.backend == "postgresql":  # fresh statistics, so the planner uses the indexes at once
                for table in tables():
                    write.execute(text(f"ANALYZE {table.name}"))
    return Copied(rows, before)
