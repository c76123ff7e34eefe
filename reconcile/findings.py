"""The record every check returns: a finding that knows its cell.

A `Finding` is small and frozen. Severity and effect default to the rule
catalogue (`rules.py`); a check overrides them only where RULES.md says the
effect depends on the value (V101-V103, V107: reject the row when the value
is needed for money, else a warning).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from reconcile.text import rules


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: a file, and where known a sheet and a cell (`K7`)."""

    source_file: str = ""
    sheet: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.source_file

    @property
    def ref(self) -> str:
        """`Läsnäolo!K7`, `Lasku`, or empty: the `cell` column of findings.csv."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return ""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    location: Location = field(default_factory=Location)
    decision_id: str | None = None
    date: dt.date | None = None
    expected: str = ""
    found: str = ""
    amount_cents: int = 0  # signed change to the claim: -4500 is minus 45.00 euros
    severity: str = ""  # '' means: the catalogue's
    effect: str = ""  # '' means: the catalogue's
    params: Mapping[str, Any] = field(default_factory=dict)  # figures for the message templates
    # Who the finding concerns, for the outputs (not all findings have an invoice).
    provider_id: str | None = None
    invoice_no: str | None = None
    row: int | None = None  # spreadsheet row on Asiakkaat the finding belongs to, if any

    def __post_init__(self) -> None:
        rule = rules.get(self.rule)  # KeyError for an uncatalogued code: a bug
        if not self.severity:
            object.__setattr__(self, "severity", rule.severity)
        if not self.effect:
            object.__setattr__(self, "effect", rule.effect)

    def with_(self, **changes: Any) -> "Finding":
        return replace(self, **changes)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
