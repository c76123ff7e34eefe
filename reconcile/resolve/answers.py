"""Finance's answers as typed: the held-days sheet of approval.xlsx, or a CSV (CONTRACT.md section 7).

First step of `reconcile resolve`. Every line becomes an `Answer` that
knows where it stands (`Pidätetyt päivät!O5`, `line 3`), so a refused line
can be named. A value that cannot be read does not stop the reading: the
line carries its `problem` and is refused later, with the others decided.

The sheet is found by its name in Finnish, Swedish or English, the header
row as the first of the first 20 rows that holds the resolution header, the
columns by their header text in any of the three languages (compared as the
invoices' headers are: trimmed, case-folded, inner white space collapsed).
The answer words (`maksa` / `hylkää`, `betala` / `avvisa`, `pay` /
`reject`) are read in any case and language. A file that cannot be opened,
or has no such sheet or columns, is a `JobError` (exit 3).
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconcile.errors import JobError
from reconcile.read import cells
from reconcile.read.sheets import norm
from reconcile.text import messages

SHEET_NAMES = tuple(messages.LABELS["held_days"].values())
ANSWER_WORDS = {
    "pay": {"fi": "maksa", "sv": "betala", "en": "pay"},
    "reject": {"fi": "hylkää", "sv": "avvisa", "en": "reject"},
}
WORDS = {norm(word): answer for answer, words in ANSWER_WORDS.items() for word in (answer, *words.values())}
CSV_COLUMNS = ("provider_id", "invoice_no", "decision_id", "date", "resolution", "reason")
# field -> label key of the sheet's header (messages.LABELS), in every language
SHEET_COLUMNS = {"provider_id": "provider_id", "invoice_no": "invoice_no", "decision_id": "decision",
                 "date": "date", "resolution": "resolution", "reason": "reason"}


@dataclass(frozen=True)
class Answer:
    """One line of finance's answers. `resolution` is `pay`, `reject` or None (left empty)."""

    where: str  # "Pidätetyt päivät!O5" or "line 3"
    provider_id: str
    invoice_no: str
    decision_id: str
    date: dt.date | None
    resolution: str | None
    reason: str
    problem: str | None = None  # why a value of the line cannot be read

    @property
    def key(self) -> tuple[str, str, str, dt.date | None]:
        return (self.provider_id, self.invoice_no, self.decision_id, self.date)


def word(answer: str, lang: str) -> str:
    """`pay` / `reject` in the words of the drop-down (`maksa`, `hylkää`, ...)."""
    return ANSWER_WORDS[answer].get(lang) or ANSWER_WORDS[answer]["fi"]


def read_answers(path: Path) -> list[Answer]:
    """The lines of a filled held-days sheet (.xlsx) or answers CSV (anything else)."""
    path = Path(path)
    if not path.is_file():
        raise JobError(f"The answers file {path} does not exist.", "Give the filled approval.xlsx or a CSV with --file.")
    with path.open("rb") as f:
        zipped = f.read(4) == b"PK\x03\x04"
    return _read_xlsx(path) if zipped else _read_csv(path)


def _text(raw: Any) -> str:
    try:
        return cells.text(raw) or ""
    except cells.Unreadable:
        return ""


def _line(where: str, values: dict[str, Any]) -> Answer:
    problems = []
    raw_answer = _text(values.get("resolution"))
    resolution = None
    if raw_answer:
        resolution = WORDS.get(norm(raw_answer))
        if resolution is None:
            problems.append(f"the answer {raw_answer!r} is not one of maksa/hylkää, betala/avvisa, pay/reject")
    day = None
    try:
        day = cells.date(values.get("date"))
    except cells.Unreadable:
        problems.append(f"the date {cells.shown(values.get('date'))!r} cannot be read")
    fields = {k: _text(values.get(k)) for k in ("provider_id", "invoice_no", "decision_id")}
    if resolution and day is None and not problems:
        problems.append("the date is empty")
    return Answer(where, fields["provider_id"], fields["invoice_no"], fields["decision_id"], day, resolution,
                  _text(values.get("reason")), "; ".join(problems) or None)


def _read_csv(path: Path) -> list[Answer]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as e:
        raise JobError(f"The answers file {path} cannot be read as UTF-8 text ({e}).",
                       "Save it as CSV (UTF-8) or give the approval.xlsx.") from None
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [norm(h) for h in next(reader, [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise JobError(f"The answers file {path} lacks the column(s) {', '.join(missing)}.",
                       f"Its first line must be: {','.join(CSV_COLUMNS)}.")
    index = {c: header.index(c) for c in CSV_COLUMNS}
    out = []
    for number, row in enumerate(reader, start=2):
        if not any(v.strip() for v in row):
            continue
        values = {c: (row[i] if i < len(row) else None) for c, i in index.items()}
        out.append(_line(f"line {number}", values))
    return out


def _read_xlsx(path: Path) -> list[Answer]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        book = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise JobError(f"The answers file {path} cannot be opened as a workbook ({type(e).__name__}).",
                       "Save it again as .xlsx in Excel or LibreOffice.") from None
    wanted = {norm(n) for n in SHEET_NAMES}
    sheet = next((ws for ws in book.worksheets if norm(ws.title) in wanted and ws.sheet_state == "visible"), None)
    if sheet is None:
        raise JobError(f"The workbook {path} has no sheet {' / '.join(SHEET_NAMES)}.",
                       f"Its sheets are: {', '.join(ws.title for ws in book.worksheets)}.")
    names = {field: {norm(t) for t in messages.LABELS[key].values()} for field, key in SHEET_COLUMNS.items()}
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next((i for i, row in enumerate(rows[:20]) if any(norm(v) in names["resolution"] for v in row)), None)
    if header_at is None:
        raise JobError(f"The sheet {sheet.title} of {path} has no column {' / '.join(messages.LABELS['resolution'].values())}.",
                       "Use the held-days sheet as reconcile wrote it.")
    header = [norm(v) for v in rows[header_at]]
    columns = {}
    for field, accepted in names.items():
        col = next((i for i, h in enumerate(header) if h in accepted), None)
        if col is None:
            raise JobError(f"The sheet {sheet.title} of {path} lacks the column "
                           f"{' / '.join(messages.LABELS[SHEET_COLUMNS[field]].values())}.",
                           "Use the held-days sheet as reconcile wrote it.")
        columns[field] = col
    answer_letter = get_column_letter(columns["resolution"] + 1)
    out = []
    for offset, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        values = {field: (row[col] if col < len(row) else None) for field, col in columns.items()}
        if all(cells.is_empty(v) for v in values.values()):
            continue
        out.append(_line(f"{sheet.title}!{answer_letter}{offset}", values))
    return out
