"""annotated.xlsx: the provider's own workbook, marked where the checks found something.

Last stage, per invoice that was processed (not rejected as a whole). What
changes is decided once, as an `xlsxpatch.Plan`:

- every cell behind a finding gets a fill by the strongest effect on it
  (reject #FFC7CE, hold #F8CBAD, adjust #FFEB9C, warning #BDD7EE) and one
  comment in the provider's language listing what is wrong and how to fix it
  (after the provider's own comment on that cell, if any);
- `Asiakkaat` gains `Hyväksytty €` and `Tila` after the last column holding
  a header or value on the table's rows (a merely formatted cell, such as a
  stray format at XFD1048576, does not count), never past XFD: when they do
  not fit they go on the review sheet, under a line saying so;
- a new first sheet `Tarkastus` sums claimed, approved, held and rejected by
  item, with the batch, the run id and the rules version.

The plan is then written by `xlsxpatch.patch`, which copies the provider's
zip and rewrites only the parts that change. When that module does not
handle a workbook's structure (`xlsxpatch.Unsupported`: links to other
workbooks, strict OOXML, ...), the workbook is loaded in full with openpyxl
instead (`keep_links=False`, so links never reach an output; a formula that
points at another workbook or the web is replaced by its cached value),
keeping formulas, formats and layout; numbers are written exactly (not to
openpyxl's 16 digits), only the cells a sheet stores are visited, and the
review sheet names what the copy lost (pictures, buttons, ...).

Every copy must pass `xlsxutil.package_problems` before it is shipped. A
copy that fails it, or any exception while annotating one invoice, leaves a
plain note (`annotated.txt`) in the provider's language instead: one
workbook never ends a batch, and its findings are in anomalies.xlsx anyway.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from reconcile import RULES_VERSION
from reconcile.text import messages
from reconcile.findings import Finding
from reconcile.model import ITEMS, BatchResult, InvoiceResult
from reconcile.write.xlsxpatch import Columns, Note, Plan, Unsupported, first_free_column, patch, split_ref
from reconcile.write.xlsxutil import (EURO_FORMAT, FILLS, STRENGTH, batch_time, content_kinds, normalise_zip,
                                      package_problems, put_text)

if TYPE_CHECKING:  # openpyxl is imported only when a workbook takes the fallback path
    import openpyxl
    from openpyxl.cell.cell import Cell

EXTERNAL_RE = re.compile(r"\[\d+\]|https?://|file:", re.IGNORECASE)
AUTHOR = "reconcile"
LOST_ORDER = ("pictures", "charts", "drawings", "header_pictures", "form_controls", "threaded_comments", "pivot_tables",
              "slicers", "other")


# The annotation's own sentences, by language (the findings' texts are in `text.rules`).
TEXTS: dict[str, dict[str, str]] = {
    "columns_moved": {
        "fi": "Sarakkeet {approved} ja {status} eivät mahtuneet välilehdelle {sheet}, koska sen viimeinen sarake "
              "(XFD) on käytössä; ne ovat tässä rivi riviltä.",
        "sv": "Kolumnerna {approved} och {status} fick inte plats på bladet {sheet} eftersom dess sista kolumn "
              "(XFD) används; de står här rad för rad.",
        "en": "The columns {approved} and {status} did not fit on the sheet {sheet}, because its last column (XFD) "
              "is in use; they are here, row by row.",
    },
    "row": {"fi": "Rivi", "sv": "Rad", "en": "Row"},
    "note": {
        "fi": "Työkirjastanne {source_file} ei voitu tehdä merkittyä kopiota (annotated.xlsx): {reason} "
              "Laskun tarkastus ei muuttunut tästä: kaikki havainnot soluineen ovat tiedostossa anomalies.xlsx.",
        "sv": "Av er arbetsbok {source_file} kunde ingen markerad kopia (annotated.xlsx) göras: {reason} "
              "Granskningen av fakturan påverkas inte: alla anmärkningar med sina celler finns i filen anomalies.xlsx.",
        "en": "No marked copy (annotated.xlsx) could be made of your workbook {source_file}: {reason} "
              "The checking of the invoice is not affected: every finding, with its cell, is in anomalies.xlsx.",
    },
    "lost": {"fi": "Tähän kopioon ei voitu säilyttää kaikkea työkirjanne sisältöä: {what}. Alkuperäinen työkirjanne "
                   "on ennallaan.",
             "sv": "I den här kopian kunde inte allt innehåll i er arbetsbok bevaras: {what}. Er ursprungliga "
                   "arbetsbok är oförändrad.",
             "en": "Not everything in your workbook could be kept in this copy: {what}. Your original workbook is "
                   "unchanged."},
    "lost_pictures": {"fi": "kuvat", "sv": "bilder", "en": "pictures"},
    "lost_charts": {"fi": "kaaviot", "sv": "diagram", "en": "charts"},
    "lost_drawings": {"fi": "piirrokset ja muodot", "sv": "teckningar och former", "en": "drawings and shapes"},
    "lost_header_pictures": {"fi": "ylä- ja alatunnisteiden kuvat", "sv": "bilder i sidhuvud och sidfot",
                             "en": "header and footer pictures"},
    "lost_form_controls": {"fi": "lomakeohjaimet (painikkeet)", "sv": "formulärkontroller (knappar)",
                           "en": "form controls (buttons)"},
    "lost_threaded_comments": {"fi": "ketjutetut kommentit", "sv": "trådade kommentarer", "en": "threaded comments"},
    "lost_pivot_tables": {"fi": "pivot-taulukot", "sv": "pivottabeller", "en": "pivot tables"},
    "lost_slicers": {"fi": "osittajat", "sv": "utsnitt", "en": "slicers"},
    "lost_other": {"fi": "muita osia", "sv": "andra delar", "en": "other parts"},
    "note_invalid": {"fi": "kopio ei olisi ollut kelvollinen Excel-työkirja.",
                     "sv": "kopian skulle inte ha varit en giltig Excel-arbetsbok.",
                     "en": "the copy would not have been a valid Excel workbook."},
    "note_error": {"fi": "työkirjan rakennetta ei voitu käsitellä.",
                   "sv": "arbetsbokens struktur kunde inte behandlas.",
                   "en": "the workbook's structure could not be processed."},
}


def say(key: str, lang: str) -> str:
    """One of the annotation's own sentences in `lang` (Finnish when the language is unknown)."""
    texts = TEXTS[key]
    return texts.get(lang) or texts["fi"]


def comment_text(findings: list[Finding], lang: str, provider_id: str | None) -> str:
    """One comment for the findings on a cell: each finding's code, message and fix."""
    parts = []
    for f in findings:
        head = f"{f.rule} ({messages.label(f.severity, lang)}, {messages.label(f.effect, lang)})"
        text = f"{head}: {messages.message(f, lang)}"
        how = messages.fix(f, lang)
        if how:
            text += f"\n{messages.label('fix', lang)}: {how}"
        parts.append(messages.provider_view(text, provider_id, lang))
    return "\n\n".join(parts)


def comment_size(text: str) -> tuple[int, int]:
    """Width and height (px) of a comment box that shows `text`."""
    return 420, min(600, 80 + 18 * text.count("\n") + len(text) // 3)


def build_plan(result: InvoiceResult, batch: BatchResult) -> Plan:
    """What annotating this invoice's workbook changes: marks, added columns, the review sheet."""
    lang = result.lang
    plan = Plan(review_name=messages.label("review", lang), author=AUTHOR, lang=lang)
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        sheet, cell = f.location.sheet, f.location.cell
        if sheet and cell:
            by_cell[(sheet, cell.replace("$", "").upper())].append(f)
    for (sheet, ref), found in sorted(by_cell.items()):
        try:
            split_ref(ref)
        except ValueError:  # a range or garbage: nothing to mark
            continue
        strongest = max(found, key=lambda f: STRENGTH.get(f.effect, 0)).effect
        text = comment_text(found, lang, result.provider_id)
        width, height = comment_size(text)
        plan.marks.setdefault(sheet, {})[ref] = Note(FILLS.get(strongest, FILLS["none"]), text, width, height)

    name = result.invoice.sheet_names.get("clients")
    header_row = result.invoice.header_rows.get("clients")
    if name and header_row:
        rows: dict[int, list] = {}
        if result.rows is not None:
            for r in result.rows.iter_rows(named=True):
                approved = sum(r.get(f"{i}_approved") or 0 for i in ITEMS)
                rows[r["row"]] = [(approved / 100, "euro"), (messages.status(r.get("status"), lang), None)]
        heads = [(messages.label("approved_col", lang), "bold"), (messages.label("status_col", lang), "bold")]
        keys = {}
        if result.rows is not None and "decision_id" in result.rows.columns:
            keys = {r["row"]: r["decision_id"] or "" for r in result.rows.select("row", "decision_id").iter_rows(named=True)}
        moved = say("columns_moved", lang).format(approved=heads[0][0], status=heads[1][0], sheet=name)
        plan.columns = Columns(name, header_row, heads, rows, [14, 16], keys, moved,
                               (say("row", lang), messages.label("decision", lang)))

    facts = [
        ("provider_id", result.provider_id or ""),
        ("invoice_no", result.invoice_no or ""),
        ("billing_month", result.billing_month.strftime("%Y-%m") if result.billing_month else ""),
        ("batch", batch.batch),
        ("run_id", batch.run_id),
        ("rules_version", RULES_VERSION),
        ("status", messages.status(result.status, lang)),
    ]
    cells = plan.review_cells
    for row, (key, value) in enumerate(facts, 1):
        cells[(row, 1)] = (messages.label(key, lang), "bold")
        cells[(row, 2)] = (value, None)
    top = len(facts) + 2
    for col, key in enumerate(("item", "claimed", "approved", "held", "rejected"), 1):
        cells[(top, col)] = (messages.label(key, lang), "bold")
    lines = [(messages.label(i, lang), result.items[i]) for i in ITEMS]
    lines.append((messages.label("total", lang), result.total))
    last = top + len(lines)
    for n, (title, money) in enumerate(lines, top + 1):
        cells[(n, 1)] = (title, "bold" if n == last else None)
        for col, cents in enumerate((money.claimed, money.approved, money.held, money.rejected), 2):
            cells[(n, col)] = (cents / 100, "bold_euro" if n == last else "euro")
    plan.review_widths = {1: 24, 2: 24, 3: 14, 4: 14, 5: 14}
    return plan


def _stored_cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[Cell]:
    """The cells a sheet stores, never the rectangle up to its furthest (perhaps merely formatted) cell."""
    return list(ws._cells.values())


def _drop_external_formulas(load: Callable[..., openpyxl.Workbook], wb: openpyxl.Workbook) -> None:
    """Replace formulas that reach into other workbooks or the web by their cached values (`load(data_only=True)`)."""
    cached = None
    for ws in wb.worksheets:
        for cell in _stored_cells(ws):
            if cell.data_type == "f" and isinstance(cell.value, str) and EXTERNAL_RE.search(cell.value):
                if cached is None:
                    cached = load(data_only=True)
                value = cached[ws.title]._cells.get((cell.row, cell.column))
                value = None if value is None else value.value
                if isinstance(value, str):
                    put_text(cell, value)
                else:
                    cell.value = value


def _first_free_column(ws, plan: Plan) -> int | None:
    """As the fast path: after the last column holding a value, merged or marked on the table's rows."""
    add = plan.columns
    rows = {add.header_row, *add.rows}
    used = {cell.column for cell in _stored_cells(ws) if cell.row in rows and cell.value is not None}
    used.update(m.max_col for m in ws.merged_cells.ranges if any(m.min_row <= r <= m.max_row for r in rows))
    used.update(col for row, col in map(split_ref, plan.marks.get(add.sheet, {})) if row in rows)
    return first_free_column(used, len(add.heads))


def _put(cell: Cell, value: object, style: str | None) -> None:
    from openpyxl.styles import Font

    if isinstance(value, str):
        put_text(cell, value)
    else:
        cell.value = value
    if style and "bold" in style:
        cell.font = Font(bold=True)
    if style and "euro" in style:
        cell.number_format = EURO_FORMAT


def _apply_with_openpyxl(wb: openpyxl.Workbook, plan: Plan) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for sheet, notes in plan.marks.items():
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        for ref, note in notes.items():
            cell = ws[ref]
            cell.fill = PatternFill(fill_type="solid", start_color=note.color, end_color=note.color)
            text, author = note.text, plan.author
            if cell.comment is not None and cell.comment.text:  # the provider's comment first, in its own name
                text, author = cell.comment.text + "\n\n" + text, cell.comment.author or author
            comment = Comment(text, author)
            comment.width, comment.height = comment_size(text)
            cell.comment = comment
    add = plan.columns
    if add is not None and add.sheet in wb.sheetnames:
        ws = wb[add.sheet]
        first = _first_free_column(ws, plan)
        if first is None:
            plan.columns_to_review()
    add = plan.columns
    if add is not None and add.sheet in wb.sheetnames:
        for offset, (value, style) in enumerate(add.heads):
            _put(ws.cell(add.header_row, first + offset), value, style)
        for offset, width in enumerate(add.widths):
            ws.column_dimensions[get_column_letter(first + offset)].width = width
        for row, values in add.rows.items():
            for offset, (value, style) in enumerate(values):
                _put(ws.cell(row, first + offset), value, style)
    ws = wb.create_sheet(plan.review_name, 0)
    for (row, col), (value, style) in plan.review_cells.items():
        _put(ws.cell(row, col), value, style)
    for col, width in plan.review_widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.page_setup.paperSize, ws.page_setup.orientation = 9, "landscape"  # A4, one page wide, as the fast path
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


@contextlib.contextmanager
def _exact_numbers():
    """While openpyxl saves: numbers written as Python writes them (shortest exact form), not to 16 digits.

    openpyxl formats every number with "%.16g", so 135.99999999999994 would
    become 135.9999999999999 in the copy: a provider's value must never change.
    """
    from openpyxl.cell import _writer

    original = _writer.safe_string

    def exact(value: object) -> str:
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return original(value)

    _writer.safe_string = exact
    try:
        yield
    finally:
        _writer.safe_string = original


@contextlib.contextmanager
def _dates_as_numbers():
    """While openpyxl loads: date and time cells stay the numbers stored, with their formats.

    openpyxl turns them into datetimes (to the millisecond) and back, so
    46000.123456789 would come back as 46000.12345679398.
    """
    from openpyxl.worksheet import _reader

    original = _reader.WorkSheetParser.__init__

    def init(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        self.date_formats, self.timedelta_formats = set(), set()

    _reader.WorkSheetParser.__init__ = init
    try:
        yield
    finally:
        _reader.WorkSheetParser.__init__ = original


def write_with_openpyxl(source: Path, plan: Plan, out: Path, when: dt.datetime) -> None:
    """The slow, general path: full load, apply the plan, save."""
    import openpyxl

    plan = copy.deepcopy(plan)

    def load(data_only: bool = False, package=None) -> openpyxl.Workbook:
        if package is not None:
            package.seek(0)
        return openpyxl.load_workbook(package or source, data_only=data_only, keep_links=False)

    with _dates_as_numbers():
        try:
            wb = load()
        except Exception:  # noqa: BLE001 - what some programs write beyond the standard (a sheet state "show")
            from reconcile.read.sheets import tolerant  # here: the reader's imports (pandera) stay out of workers

            package = tolerant(source)
            wb = load(package=package)
            load = functools.partial(load, package=package)
        _drop_external_formulas(load, wb)
    _apply_with_openpyxl(wb, plan)
    wb.properties.creator = plan.author
    wb.properties.lastModifiedBy = plan.author
    wb.properties.created = when
    with _exact_numbers():
        wb.save(out)
        lost = _lost(source, out)
        if lost:  # say so on the review sheet, in the provider's language
            what = ", ".join(say(f"lost_{kind}", plan.lang) for kind in lost)
            row = plan.review_note(say("lost", plan.lang).format(what=what))
            _put(wb[plan.review_name].cell(row, 1), plan.review_cells[(row, 1)][0], "bold")
            wb.save(out)
    normalise_zip(out, when)


def _lost(source: Path, copy: Path) -> list[str]:
    """The kinds of content (pictures, charts, buttons, ...) the source holds more of than its copy."""
    before, after = content_kinds(source), content_kinds(copy)
    return [kind for kind in LOST_ORDER if before.get(kind, 0) > after.get(kind, 0)]


ANNOTATE_SECONDS = 180.0  # one workbook's annotation may take this long (the slowest real one: a few seconds)


class TookTooLong(Exception):
    """Annotating one workbook took longer than `ANNOTATE_SECONDS`."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise `TookTooLong` inside the block after `seconds` (a SIGALRM timer; only in a main thread on POSIX)."""
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise TookTooLong(f"more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class InvalidCopy(Exception):
    """The annotated copy would not be a valid workbook for Excel (`xlsxutil.package_problems`)."""


def write_annotated(result: InvoiceResult, batch: BatchResult, out: Path) -> Path:
    """The provider's workbook with fills, comments, added columns and the review sheet; or a note instead.

    Whatever goes wrong while annotating one invoice stays with it: an
    exception, more than `ANNOTATE_SECONDS`, or a copy that fails the package check, leaves no
    annotated.xlsx but a plain note (`annotated.txt`, `write_note`) in the
    provider's language; the invoice's findings are in its anomalies.xlsx
    all the same. Only a failing disk (an OSError with an errno) ends the
    batch, as it would while writing any other output. Returns the path written.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _time_limit(ANNOTATE_SECONDS):
            _annotate(result, batch, out)
        return out
    except OSError as e:
        if e.errno is not None:
            raise
        reason = "error"
    except InvalidCopy:
        reason = "invalid"
    except Exception:  # noqa: BLE001 - one workbook never ends a batch
        reason = "error"
    for leftover in (out, out.with_name(out.name + ".tmp")):
        leftover.unlink(missing_ok=True)
    return write_note(result, out.with_suffix(".txt"), reason)


def _annotate(result: InvoiceResult, batch: BatchResult, out: Path) -> None:
    source = result.invoice.submission.path
    plan = build_plan(result, batch)
    when = batch_time(batch.batch)
    try:
        patch(source, out, plan, when)
    except Unsupported:
        write_with_openpyxl(source, plan, out, when)
    problems = package_problems(out)
    if problems:
        raise InvalidCopy("; ".join(problems[:5]))


def write_note(result: InvoiceResult, path: Path, reason: str) -> Path:
    """The plain note shipped in place of an annotated copy that could not be made."""
    lang = result.lang
    body = say("note", lang).format(source_file=result.source_file, reason=say(f"note_{reason}", lang))
    path.write_text(body + "\n", encoding="utf-8")
    return path
