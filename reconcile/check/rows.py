"""Row checks: each `Asiakkaat` row against its decision and its `Läsnäolo` row (RULES.md section 4).

A row gets one verdict, the first that applies, in this order:

    the reader's  V101-V107 (the row could not be read)
    R201          the decision number is not in the register
    R202          the henkilötunnus is not the decision's
    R203          the decision is another provider's
    R223          the row has no `Läsnäolo` row (also a warning the other way round)
    R218          the decision's benefit does not qualify: the row is held, not rejected

`verdict` is that code and `whole` its effect on the row ("reject" or "hold").
"""

from __future__ import annotations

import polars as pl

from reconcile.check.work import Work
from reconcile.findings import Finding
from reconcile.model import Registers

INELIGIBLE_BENEFITS = ("kuntoutustuki", "eläke")
DECISION_COLUMNS = {
    "hetu": "d_hetu", "provider_id": "d_provider", "start": "d_start", "end": "d_end", "terminated": "d_terminated",
    "days_per_week": "d_days_per_week", "hours_per_day_h100": "d_hours_h100", "day_value_cents": "d_value_cents",
    "meal": "d_meal", "travel_per_day_cents": "d_travel_cents", "benefit": "d_benefit",
    "guidance_min_h100": "d_guidance_min_h100",
}
ROW_TEXT = {  # rule -> (column at fault, expected)
    "R201": ("decision_id", ""),
    "R202": ("hetu", ""),
    "R203": ("decision_id", ""),
    "R223": ("decision_id", ""),
    "R218": ("decision_id", "työttömyysetuus, toimeentulotuki"),
}


def decisions(registers: Registers) -> pl.DataFrame:
    """The register's decisions with `d_` names; a city own unit's day value is 0."""
    own = registers.providers.filter(pl.col("own_unit")).get_column("provider_id")
    d = registers.decisions.select("decision_id", *DECISION_COLUMNS).rename(DECISION_COLUMNS)
    return d.with_columns(
        d_hetu=pl.col("d_hetu").str.to_uppercase(),
        d_value_cents=pl.when(pl.col("d_provider").is_in(own.implode())).then(0).otherwise(pl.col("d_value_cents")),
        d_known=pl.lit(True),
    )


def row_verdicts(clients: pl.DataFrame, attendance: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """The reader's V rule, R201, R202, R203, R223, R218: join each `Asiakkaat` row with its
    decision and its `Läsnäolo` row; `verdict` is the code rejecting or holding the row as a
    whole, `whole` its effect."""
    att_owner = (
        attendance.filter(pl.col("rejected").is_null() & pl.col("decision_id").is_not_null())
        .group_by("inv", "decision_id")
        .agg(att_row=pl.col("row").min())
    )
    rows = clients.join(decisions, on="decision_id", how="left").join(att_owner, on=["inv", "decision_id"], how="left")
    verdict = (
        pl.when(pl.col("rejected").is_not_null()).then(pl.col("rejected"))
        .when(pl.col("d_known").is_null()).then(pl.lit("R201"))
        .when(pl.col("hetu").str.to_uppercase() != pl.col("d_hetu")).then(pl.lit("R202"))
        .when(pl.col("d_provider") != pl.col("provider")).then(pl.lit("R203"))
        .when(pl.col("att_row").is_null()).then(pl.lit("R223"))
        .when(pl.col("d_benefit").is_in(INELIGIBLE_BENEFITS)).then(pl.lit("R218"))
    )
    rows = rows.with_columns(verdict=verdict).with_columns(
        whole=pl.when(pl.col("verdict") == "R218").then(pl.lit("hold"))
        .when(pl.col("verdict").is_not_null()).then(pl.lit("reject"))
    )
    return rows.sort("inv", "row")


def reader_amounts(findings: list[Finding], read_whole: pl.DataFrame, read_days: pl.DataFrame) -> list[Finding]:
    """The reader's findings carry their money effect, which only the register can price:
    one rejecting a row as a whole (V101-V107) carries the row's claim, as R201-R203 do;
    one rejecting a day cell (V105, V103 on a day) carries the day's value, as R204 does."""
    claims = {(r["row"], r["verdict"]): r["claimed"] for r in read_whole.iter_rows(named=True)}
    days = {r["cell"]: r["d_value_cents"] or 0 for r in read_days.iter_rows(named=True)}
    out = []
    for f in findings:
        claim = None
        if f.effect == "reject":
            claim = claims.pop((f.row, f.rule), None)
            if claim is None and f.location.sheet and f.location.cell in days and f.date is not None:
                claim = days.pop(f.location.cell)
        out.append(f.with_(amount_cents=-claim) if claim else f)
    return out


def row_findings(w: Work, whole: pl.DataFrame, orphans: pl.DataFrame) -> list[Finding]:
    """R201-R203, R223 and R218 on rows rejected or held as a whole; R223 (warning) on
    a Läsnäolo row without an Asiakkaat row."""
    out = []
    for r in whole.iter_rows(named=True):
        rule = r["verdict"]
        column, expected = ROW_TEXT[rule]
        found = {"R202": r["hetu"], "R203": "", "R223": w.sheet_name("clients"),
                 "R218": r["d_benefit"]}.get(rule, r["decision_id"])
        out.append(Finding(rule, w.where("clients", column, r["row"]), decision_id=r["decision_id"], expected=expected,
                           found=found or "", amount_cents=-r["claimed"], provider_id=w.provider_id,
                           invoice_no=w.invoice_no, row=r["row"]))
    for r in orphans.iter_rows(named=True):
        out.append(Finding("R223", w.where("attendance", "decision_id", r["row"]), decision_id=r["decision_id"],
                           found=w.sheet_name("attendance"),
                           severity="warning", effect="none",
                           provider_id=w.provider_id, invoice_no=w.invoice_no, params={"side": "attendance"}))
    return out
