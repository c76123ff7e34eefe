"""The rule catalogue: every finding code, declared once (RULES.md, version 1).

Each rule has its severity and effect, the level it works at, and the
message and how-to-fix templates in Finnish, Swedish and English. Cell
comments, anomalies.xlsx, findings.csv and the README's rule table are all
rendered from here, and a test checks that every code here has an emitter
and every emitted code is here.

Templates use `str.format` fields from a finding's `params` plus the
finding's own `expected`, `found`, `date` and `decision_id`. A missing field
renders as an empty string, never as an error.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, Mapping

SEVERITIES = ("error", "warning", "info")
EFFECTS = ("reject", "hold", "adjust", "none")
LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True, slots=True)
class Text:
    message: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    level: str  # file, cell, row, day, amount, compliance, internal
    severity: str
    effect: str
    title: str  # English, for the README and logs
    texts: Mapping[str, Text] = field(default_factory=dict)

    def text(self, lang: str) -> Text:
        return self.texts.get(lang) or self.texts.get("fi") or Text(self.title)


def _r(code, level, severity, effect, title, **texts: tuple[str, str]) -> Rule:
    return Rule(code, level, severity, effect, title, {k: Text(*v) for k, v in texts.items()})


CATALOGUE: dict[str, Rule] = {
    r.code: r
    for r in [
        # 1. File level: the invoice cannot be processed as a whole.
        _r("F001", "file", "error", "reject", "Not a readable .xlsx workbook"),
        _r("F002", "file", "error", "reject", "Unsafe or too big to open"),
        _r("F003", "file", "error", "reject", "A required sheet is missing"),
        _r("F004", "file", "error", "reject", "A required column is missing"),
        _r("F005", "file", "error", "reject", "Invoice header lacks Y-tunnus, invoice number or billing month"),
        _r("F006", "file", "error", "reject", "Provider unknown or not approved for the billed month"),
        _r("F007", "file", "error", "reject", "Duplicate invoice"),
        _r("F008", "file", "error", "reject", "Billed month is after the batch month"),
        # 2. Cell level.
        _r("V101", "cell", "error", "reject", "Value cannot be read as its type"),
        _r("V102", "cell", "error", "reject", "Required value is empty"),
        _r("V103", "cell", "error", "reject", "Value out of range"),
        _r("V104", "cell", "error", "reject", "Invalid henkilötunnus"),
        _r("V105", "cell", "error", "reject", "Unknown code in a day cell"),
        _r("V106", "cell", "error", "reject", "Decision appears twice"),
        _r("V107", "cell", "error", "reject", "Cell holds an error value"),
        # 3. Reconciliation: rows.
        _r("R201", "row", "error", "reject", "Decision number not in the register"),
        _r("R202", "row", "error", "reject", "Henkilötunnus is not the decision's"),
        _r("R203", "row", "error", "reject", "Decision belongs to another provider"),
        _r("R218", "row", "error", "hold", "Benefit not eligible for the service"),
        _r("R223", "row", "error", "reject", "Client row and attendance row do not match"),
        # Days, in the order they are checked.
        _r("R222", "day", "error", "reject", "Not a day of the billed month"),
        _r("R204", "day", "error", "reject", "Day outside the decision's period"),
        _r("R206", "day", "error", "reject", "Fewer than 4 hours"),
        _r("R217", "day", "error", "reject", "Day already paid on another invoice"),
        _r("R216", "day", "error", "hold", "Same client and date on another invoice of this batch"),
        _r("R205", "day", "error", "reject", "More days than decided in a calendar week"),
        _r("R207", "day", "warning", "none", "Attendance on a Sunday or public holiday"),
        _r("R226", "day", "warning", "none", "More than 8 hours in a day"),
        # Amounts.
        _r("R208", "amount", "error", "adjust", "Attendance days differ from the calendar"),
        _r("R209", "amount", "error", "adjust", "Day value differs from the decision"),
        _r("R210", "amount", "error", "adjust", "Service fee differs from days × day value"),
        _r("R211", "amount", "error", "reject", "Meals or meal compensation not in the decision"),
        _r("R212", "amount", "error", "reject", "More meals than days paid or held"),
        _r("R213", "amount", "error", "reject", "Travel above the decision's daily amount"),
        _r("R220", "amount", "warning", "none", "Invoice total differs from its rows"),
        _r("R221", "amount", "warning", "none", "Row total differs from its items"),
        # Compliance.
        _r("R214", "compliance", "warning", "none", "Individual guidance below the monthly minimum"),
        _r("R215", "compliance", "warning", "none", "Guidance log differs from the row's hours"),
        _r("R219", "compliance", "warning", "none", "Kykyviisari or VAT assessment missing"),
        _r("R224", "compliance", "warning", "none", "Decision period shorter than 3 or longer than 24 months"),
        _r("R225", "compliance", "warning", "none", "Late invoice: billed month more than 3 months before the batch"),
        # Not in RULES.md: a bug in one check holds the invoice instead of killing the batch.
        _r("X900", "internal", "error", "hold", "Internal error while checking this invoice"),
    ]
}

# The day checks of RULES.md section 3, in the order they decide a day.
DAY_ORDER = ("R222", "R204", "R206", "R217", "R216", "R205")


def get(code: str) -> Rule:
    return CATALOGUE[code]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


_formatter = string.Formatter()


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a template; unknown fields become empty, never an exception."""
    try:
        return _formatter.vformat(template, (), _Blank(values))
    except (ValueError, IndexError, AttributeError):
        return template
