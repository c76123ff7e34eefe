"""The rules of CONTRACT.md section 7: which answer lines are taken and which are refused.

Second step of `reconcile resolve`, after `answers`: plain data in, plain
data out, no files and no ledger (the caller hands in what the ledger
knows). Lines are decided in the order of the file; a refused line never
stops the others:

- an empty answer leaves the day held (not a refusal);
- a line with a value that cannot be read, or naming no held day of the
  batch, is refused;
- an answer is final: a day already answered keeps its first answer (the
  same answer again is taken as a no-op), a different one is refused;
- pay is refused when the same client and date is already paid on another
  claim (another invoice, or another decision of the same invoice) - in the
  ledger, or by an earlier line of the same file - or when paying would take
  the decision's paid days in that Monday-Sunday week over the decided
  number (never more than 4);
- reject needs a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconcile.check.days import WEEK_LIMIT
from reconcile.resolve.answers import Answer


@dataclass(frozen=True)
class HeldDay:
    """A day of the batch that a run held: the key finance answers by, and what it holds."""

    provider_id: str
    invoice_no: str
    decision_id: str
    hetu: str
    date: dt.date
    rule: str
    held_cents: int = 0

    @property
    def key(self) -> tuple[str, str, str, dt.date]:
        return (self.provider_id, self.invoice_no, self.decision_id, self.date)

    @property
    def claim(self) -> tuple[str, str, str]:
        return (self.provider_id, self.invoice_no, self.decision_id)


@dataclass(frozen=True)
class Refused:
    where: str
    reason: str


@dataclass(frozen=True)
class Taken:
    answer: Answer
    day: HeldDay


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def decide(answers: list[Answer], held: list[HeldDay], answered: dict[tuple, str],
           paid: list[tuple[str, dt.date, tuple[str, str, str]]], per_week: dict[str, int],
           ) -> tuple[list[Taken], list[Refused], int]:
    """(lines taken, lines refused, lines that repeat an earlier answer).

    `answered`: key of a held day -> its answer in the ledger (`pay` / `reject`).
    `paid`: (hetu, date, claim) of every day paid in the ledger, runs and answers alike.
    `per_week`: decision_id -> days per week decided.
    """
    by_key = {d.key: d for d in held}
    folded = {(p.casefold(), i, dec.casefold(), day): d for (p, i, dec, day), d in by_key.items()}
    paid_at: dict[tuple[str, dt.date], set[tuple[str, str, str]]] = {}
    week_days: dict[tuple[str, dt.date], set[dt.date]] = {}
    for hetu, day, claim in paid:
        paid_at.setdefault((hetu.upper(), day), set()).add(claim)
        week_days.setdefault((claim[2], monday(day)), set()).add(day)
    taken: list[Taken] = []
    refused: list[Refused] = []
    repeats = 0
    decided = dict(answered)  # grows with the lines taken
    for a in answers:
        if a.problem:
            refused.append(Refused(a.where, f"{a.problem}."))
            continue
        if a.resolution is None:
            continue
        day = by_key.get(a.key) or folded.get((a.provider_id.casefold(), a.invoice_no, a.decision_id.casefold(), a.date))
        if day is None:
            refused.append(Refused(a.where, f"no held day of this batch is invoice {a.invoice_no or '(empty)'} of "
                                            f"{a.provider_id or '(empty)'}, decision {a.decision_id or '(empty)'}, "
                                            f"{a.date.isoformat() if a.date else '(no date)'}."))
            continue
        earlier = decided.get(day.key)
        if earlier is not None:
            if earlier == a.resolution:
                repeats += 1
            else:
                refused.append(Refused(a.where, f"the day was already answered {earlier!r}; an answer is final "
                                                "(a correction comes on a new invoice)."))
            continue
        if a.resolution == "reject" and not a.reason.strip():
            refused.append(Refused(a.where, "a rejection needs a reason."))
            continue
        if a.resolution == "pay":
            others = paid_at.get((day.hetu.upper(), day.date), set()) - {day.claim}
            if others:
                refused.append(Refused(a.where, f"the same client and date {day.date.isoformat()} is already paid on "
                                                "another claim; the day stays held (reject it, with a reason)."))
                continue
            limit = min(per_week.get(day.decision_id) or WEEK_LIMIT, WEEK_LIMIT)
            week = week_days.get((day.decision_id, monday(day.date)), set()) - {day.date}
            if len(week) + 1 > limit:
                refused.append(Refused(a.where, f"paying it would make {len(week) + 1} paid days in the week of "
                                                f"{monday(day.date).isoformat()}, over the decided {limit}; "
                                                "the day stays held."))
                continue
            paid_at.setdefault((day.hetu.upper(), day.date), set()).add(day.claim)
            week_days.setdefault((day.decision_id, monday(day.date)), set()).add(day.date)
        decided[day.key] = a.resolution
        taken.append(Taken(a, day))
    return taken, refused, repeats
