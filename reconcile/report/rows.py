"""What a batch run keeps for the trends report: one record per `Asiakkaat` row.

Called by `batch.run_batch` after the cross-checks, and recorded in the
ledger with the batch (`trend_rows`, plus the batch in `trend_batches` so the
report can tell a batch recorded with these figures from one recorded before
them). The report (`report.trends`) reads them back and never opens an
invoice workbook.

Only invoices the ledger records are kept (`ledger.processed`: attributed and
not rejected by an F rule), so files rejected as a whole count no clients and
no days. Per row:

- `hetu`: the person billed. The row's own henkilötunnus when it is valid,
  else the decision's (a row whose henkilötunnus is garbled still bills the
  decision's client), else null: a row that names no one is no client.
- `days_paid`, `days_held`, `days_rejected`: the row's `Läsnäolo` day cells
  claiming attendance, by their outcome as the run decided it (a row rejected
  or held as a whole has its days rejected or held). A `Läsnäolo` row without
  an `Asiakkaat` row counts for nothing (R223). An invoice held whole for an
  internal error (X900) has every day cell of its rows held.
- `guidance`: `met` or `below` as R214 decided the row (a row R214 checked
  with no R214 finding met the minimum), null where R214 did not check it (a
  row rejected as a whole, no guidance column, an X900 invoice).
"""

from __future__ import annotations

import polars as pl

from reconcile.model import InvoiceResult, Registers
from reconcile.read.cells import valid_hetu

ROW_SCHEMA = {
    "provider_id": pl.Utf8,
    "invoice_no": pl.Utf8,
    "row": pl.Int64,
    "decision_id": pl.Utf8,
    "hetu": pl.Utf8,
    "days_paid": pl.Int64,
    "days_held": pl.Int64,
    "days_rejected": pl.Int64,
    "guidance": pl.Utf8,
}
GUIDANCE_COLUMN = "guidance_individual_h100"


def _person(row_hetu: str | None, decision_hetu: str | None) -> str | None:
    if row_hetu and valid_hetu(row_hetu.strip().upper()):
        return row_hetu.strip().upper()
    return decision_hetu.upper() if decision_hetu else None


def invoice_rows(res: InvoiceResult, decision_hetu: dict[str, str]) -> pl.DataFrame:
    """The trend record of one processed invoice's rows (ROW_SCHEMA)."""
    clients, rows = res.invoice.clients, res.rows
    if clients is None or rows is None or not rows.height:
        return pl.DataFrame(schema=ROW_SCHEMA)
    hetus = dict(zip(clients.get_column("row"), clients.get_column("hetu"))) if "hetu" in clients.columns else {}
    internal_error = any(f.rule == "X900" for f in res.findings)
    below = {f.row for f in res.findings if f.rule == "R214"}
    has_guidance = GUIDANCE_COLUMN in res.invoice.columns.get("clients", {})

    counts: dict[int, dict[str, int]] = {}
    if res.day_outcomes is not None and res.day_outcomes.height:
        grouped = (res.day_outcomes.filter(pl.col("row").is_not_null())
                   .group_by("row", "outcome").agg(n=pl.len()))
        for r, outcome, n in grouped.iter_rows():
            counts.setdefault(r, {})[outcome] = n
    elif internal_error and res.invoice.days is not None and res.invoice.days.height:
        first = {}  # the first row of each decision owns its Läsnäolo days
        for r, decision in rows.select("row", "decision_id").iter_rows():
            first.setdefault(decision, r)
        cells = res.invoice.days.group_by("decision_id").agg(n=pl.len())
        for decision, n in cells.iter_rows():
            if decision in first:
                counts.setdefault(first[decision], {})["held"] = n

    out = []
    for r, decision, whole in rows.select("row", "decision_id", "whole").iter_rows():
        days = counts.get(r, {})
        guidance = None
        if has_guidance and not internal_error and whole in (None, "hold"):
            guidance = "below" if r in below else "met"
        out.append((res.provider_id, res.invoice_no, r, decision, _person(hetus.get(r), decision_hetu.get(decision)),
                    days.get("paid", 0), days.get("held", 0), days.get("rejected", 0), guidance))
    return pl.DataFrame(out, schema=ROW_SCHEMA, orient="row")


def batch_rows(results: list[InvoiceResult], registers: Registers, recorded) -> pl.DataFrame:
    """The trend record of a batch: the rows of every invoice `recorded(result)` says the ledger keeps."""
    decisions = registers.decisions
    decision_hetu = dict(zip(decisions.get_column("decision_id"), decisions.get_column("hetu")))
    frames = [invoice_rows(res, decision_hetu) for res in results if recorded(res)]
    return pl.concat(frames) if frames else pl.DataFrame(schema=ROW_SCHEMA)
