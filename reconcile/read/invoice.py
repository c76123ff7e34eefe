"""Stage 2 of the pipeline: one provider workbook into validated frames (F003-F005, V101-V107).

    intake.inspect  -> sheets.open_book -> header (Lasku), clients (Asiakkaat),
    attendance + days (Läsnäolo), guidance (Ohjaus) -> Pandera models -> Invoice

Every value is read with `cells`, every problem becomes a finding at the
cell the provider sees (`Läsnäolo!K7`), found through the spreadsheet row
kept in each frame and the header-to-column-letter map of its sheet. A
problem with a money column (`money=True` in `schemas.invoice.Clients`)
rejects the row; elsewhere it is a warning and the value counts as empty.
`read_invoice` never raises: an unexpected exception becomes F001 (fatal).

`read_invoices` reads a whole batch and validates with Pandera once per
model for each reading process instead of once per sheet: a validation
costs some 5-20 ms whatever the frame's size. Each sheet's frame waits as a
`_Check` while the rest of its workbook is read; then the frames of one
model are stacked with the number of their check, validated once
(`lazy=True`), and each failure case goes back to its own frame by that
number and its position. The models check each value on its own (ranges,
henkilötunnus), never across rows, so a stacked frame fails exactly where
the frames alone would; each check's findings are put where a validation of
its own would have put them, so an invoice's findings keep their order.
`read_invoice` is the batch of one. On more than one core, `read_invoices`
reads the files on worker processes and in this one, each taking the next
file from a shared counter, and returns the invoices in the order of the
submissions. Cells are read a column at a time through the quick readers of
`cells`, and Läsnäolo's day cells by their commonest codes; only what those
leave is read cell by cell (`QUICK = False` reads everything that way, and
tests/test_reading_speedpaths.py checks that both give the same invoices).

Decisions where the contract is silent:
- an empty Päätösnumero or Henkilötunnus on a client row (not the trailing
  totals row) rejects the row: a row that names no one cannot be paid;
- an error value in a day cell is V105 (the day-cell rule: only the codes
  of the contract are allowed there), and hours outside 0-24 in a day cell
  are V103; both cells claim attendance with code "?" and the day is rejected;
- a Läsnäolo header typed as a text date (`3.11.2026`) is a date header; a
  number above 31 is an Excel serial date and heads a day only when it falls
  inside the billed month (else it is an extra column, ignored);
- a finding's `found` is the value as the provider sees it (`-5,6`,
  `4.5.2026`), its `expected` an example of the form or the allowed range
  (`12,50 €`, `≥ 0,00 €`, `0–23`), and its params name the column as the
  workbook spells it and what was expected in fi/sv/en (`what_fi`, ...);
- problems on the optional Ohjaus sheet are warnings only (it carries no money);
- an Ohjaus sheet without a Päätösnumero or Henkilötunnus header is ignored.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import pandera.polars as pa
import polars as pl
from openpyxl.utils import get_column_letter

from reconcile.read import cells, intake, sheets
from reconcile.config import Config
from reconcile.findings import Finding, Location
from reconcile.model import DAY_COLUMNS, Invoice, Submission
from reconcile.text.format import euros, hours
from schemas import ColumnSpec, columns
from schemas.invoice import GUIDANCE_TYPE_ALIASES, AttendanceKeys, Clients, GuidanceLog, InvoiceHeader

REQUIRED_SHEETS = ("invoice", "clients", "attendance")
HEADER_FIELDS = ("provider_id", "invoice_no", "billing_month")  # F005 when missing or garbled
IDENTITY = ("decision_id", "hetu")  # an empty one rejects a client row
DTYPES = {"text": pl.Utf8, "hetu": pl.Utf8, "ytunnus": pl.Utf8, "code": pl.Utf8, "date": pl.Date,
          "month": pl.Date, "int": pl.Int64, "euros": pl.Int64, "hours": pl.Int64}
MAX_DAY_H100 = 2400
_DAY = re.compile(r"(\d{1,2})\.?")
MODELS = {"clients": Clients, "attendance": AttendanceKeys, "guidance": GuidanceLog}
DAY_CODES_SHOWN = "X, S, P, L, 0–24 h"  # `expected` of V105
NOT_PRESENT = ("S", "s", "P", "p", "L", "l")  # day codes that claim nothing
# Plain values are read by the quick readers of `cells` (identical results,
# tests/test_reading_speedpaths.py); False reads every cell the full way.
QUICK = True
QUICK_READERS = {**cells.QUICK, "hetu": cells.quick_normal_hetu}  # a table's henkilötunnus is only normalised

# What a finding about a cell says was expected: an example of the form, the same in every
# language (`expected`), and what the value should be in fi/sv/en (params `what_fi`, ...).
KIND_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "euros": ("12,50 €", "euromäärä, enintään kaksi desimaalia", "eurobelopp med högst två decimaler",
              "an amount in euros with at most two decimals"),
    "int": ("3", "kokonaisluku", "ett heltal", "a whole number"),
    "hours": ("4,5", "tuntimäärä", "ett antal timmar", "a number of hours"),
    "date": ("3.11.2026", "päivämäärä", "ett datum", "a date"),
    "month": ("2026-11", "kuukausi", "en månad", "a month"),
    "ytunnus": ("1234567-8", "Y-tunnus", "ett FO-nummer", "a business id"),
    "hetu": ("PPKKVV-NNNT", "henkilötunnus", "en personbeteckning", "a personal identity code"),
    "text": ("", "teksti", "text", "text"),
    "code": ("", "koodi", "en kod", "a code"),
}


def frame_schema(specs: list[ColumnSpec]) -> dict[str, pl.DataType]:
    return {"row": pl.Int64, **{s.field: DTYPES[s.kind] for s in specs}}


def read_invoice(sub: Submission, config: Config) -> Invoice:
    """Read one submission. Never raises: an unexpected error is an F001 finding, fatal."""
    return _read_chunk([sub], config)[0]


def read_invoices(subs: list[Submission], config: Config, workers: int | None = None) -> list[Invoice]:
    """Read a batch of submissions, in their order; as `read_invoice` on each, only faster.

    `workers` processes read the batch (default: one per core, never more
    than one per `MIN_CHUNK` files); 1 reads in this process. Every process,
    this one among them, takes the next file nobody has taken from a shared
    counter until none is left, so the work evens out to a file whatever
    each costs and however long a worker takes to start; then each process
    validates what it read, once per model.
    """
    workers = min(workers or os.cpu_count() or 1, max(1, len(subs) // MIN_CHUNK))
    if workers <= 1:
        return _read_chunk(subs, config)
    # "spawn": a forked child of a process whose Polars thread pool is running can deadlock.
    context = multiprocessing.get_context("spawn")
    taken = context.Value("q", 0)
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context,
                             initializer=_share_counter, initargs=(taken,)) as pool:
        futures = [pool.submit(_read_taken, subs, config) for _ in range(workers - 1)]
        read = dict(_read_taken(subs, config, taken))
        for future in futures:
            read.update(future.result())
    return [read[i] for i in range(len(subs))]


MIN_CHUNK = 40  # fewer files than this per process cost more to start a process than they save
_taken = None  # a worker's shared counter of the files taken (set when the worker starts)


def _share_counter(taken) -> None:
    global _taken
    _taken = taken


def _read_taken(subs: list[Submission], config: Config, taken=None) -> list[tuple[int, Invoice]]:
    """(position, invoice) of each file this process takes from the shared counter, read and validated."""
    taken = taken if taken is not None else _taken
    mine: list[int] = []

    def take() -> Iterator[Submission]:
        while True:
            with taken.get_lock():
                i = taken.value
                taken.value = i + 1
            if i >= len(subs):
                return
            mine.append(i)
            yield subs[i]

    return list(zip(mine, _read_chunk(take(), config)))


def _read_chunk(subs: Iterable[Submission], config: Config) -> list[Invoice]:
    """The submissions read one after another, then validated together, once per model."""
    readers = [_start(sub, config) for sub in subs]
    checks = [c for r in readers for c in r.checks]
    by_model: dict[type, list[_Check]] = {}
    for check in checks:
        by_model.setdefault(check.model, []).append(check)
    for model, group in by_model.items():
        _validate_together(model, group)
    for reader in readers:
        _guard(reader.inv, reader.finish)
    return [reader.inv for reader in readers]


def _start(sub: Submission, config: Config) -> "_Reader":
    """Everything of one file up to validation (the checks it waits for are in `_Reader.checks`)."""
    inv = _empty_invoice(sub)
    reader = _Reader(inv, None)

    def read() -> None:
        inspection = intake.examine(sub, config.limits)
        if inspection.finding is not None:
            inv.findings.append(inspection.finding)
            inv.fatal = True
            return
        try:
            reader.book = sheets.open_book(inspection)
        except sheets.Unreadable as e:  # in plain words, never the libraries' texts
            reason = "neither spreadsheet reader could read the workbook's sheets"
            inv.findings.append(Finding("F001", Location(inv.source_file), found=reason,
                                        params={"kind": "unreadable", "reason": reason}))
            inv.fatal = True
            return
        reader.read()

    _guard(inv, read)
    return reader


def _empty_invoice(sub: Submission) -> Invoice:
    inv = Invoice(submission=sub)
    inv.clients = pl.DataFrame(schema={**frame_schema(columns(Clients)), "rejected": pl.Utf8})
    inv.attendance = pl.DataFrame(schema={"row": pl.Int64, "decision_id": pl.Utf8, "hetu": pl.Utf8, "rejected": pl.Utf8})
    inv.days = pl.DataFrame(schema=DAY_COLUMNS)
    return inv


def _guard(inv: Invoice, step: Callable[[], None]) -> None:
    """Run a step of reading; an unexpected exception becomes F001 (fatal)."""
    try:
        step()
    except Exception as exc:  # noqa: BLE001 - bad input never raises (STYLE.md 5)
        # The library's own words (`CalamineError: ...`) never reach a provider or an auditor: they are no reason a person can act on.
        inv.findings.append(Finding("F001", Location(inv.source_file), found="the workbook cannot be read",
                                    params={"kind": "unreadable"}))
        inv.fatal = True


@dataclass
class _Check:
    """A sheet's frame waiting for Pandera, and what to do with it once checked."""

    model: type
    df: pl.DataFrame
    at: int  # where in the invoice's findings this validation's findings go
    then: Callable[[pl.DataFrame | None], None]  # given the failure cases of this frame (None: none)
    failures: pl.DataFrame | None = None
    error: Exception | None = None  # an unexpected exception from Pandera


def _validate_together(model: type, group: list[_Check]) -> None:
    """Validate the frames of one model as one stacked frame and hand each its own failure cases."""
    stacked = pl.concat([c.df.with_columns(_check=pl.lit(i, dtype=pl.Int64), _position=pl.int_range(pl.len(),
                         dtype=pl.Int64)) for i, c in enumerate(group)], how="vertical")
    try:
        model.validate(stacked, lazy=True)
        return
    except pa.errors.SchemaErrors as err:
        failures = err.failure_cases.filter(pl.col("index").is_not_null())
    except Exception as exc:  # noqa: BLE001 - each invoice then gets its F001
        for c in group:
            c.error = exc
        return
    where = stacked.select("_check", "_position").with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    failures = failures.with_columns(pl.col("index").cast(pl.Int64)).join(where, on="index", how="left",
                                                                            maintain_order="left")
    for (i,), part in failures.group_by("_check", maintain_order=True):
        group[i].failures = part.with_columns(index=pl.col("_position")).drop("_check", "_position")


def day_of_header(header: Any, month: dt.date | None) -> tuple[int | None, dt.date | None] | None:
    """(day number, date in the billed month or None) for a day column's header; None if not one."""
    if isinstance(header, dt.datetime):
        header = header.date()
    if isinstance(header, dt.date):
        inside = month is not None and (header.year, header.month) == (month.year, month.month)
        return header.day, header if inside else None
    if isinstance(header, float) and header.is_integer():
        header = int(header)
    if isinstance(header, int) and not isinstance(header, bool):
        day = header
        if day > 31:  # an Excel serial number counts when it is a date inside the billed month
            inside = _date_or_none(header)
            return (inside.day, inside) if inside and month and inside.replace(day=1) == month else None
    elif isinstance(header, str) and (m := _DAY.fullmatch(cells.clean(header))):
        day = int(m[1])
    elif isinstance(header, str) and (typed := _date_or_none(header)) is not None:
        return day_of_header(typed, month)  # a date typed as text (3.11.2026, 2026-11-03)
    else:
        return None
    if not 1 <= day <= 31:
        return None
    if month is None:
        return day, None
    try:
        return day, month.replace(day=day)
    except ValueError:  # 31 in November: R222 is decided later
        return day, None


def what(kind: str, column: str) -> dict[str, Any]:
    """`expected` and the params of a V101/V107 finding on a value of `kind` under header `column`."""
    example, fi, sv, en = KIND_TEXTS[kind]
    return {"expected": example, "params": {"column": column, "what_fi": fi, "what_sv": sv, "what_en": en}}


@functools.lru_cache(maxsize=None)
def allowed(model: type, field: str, kind: str) -> str:
    """The range a model allows a column, as a person reads it: `≥ 0,00 €`, `0–23`, `0–24 h`."""
    low = high = None
    for check in model.to_schema().columns[field].checks:
        stats = check.statistics or {}
        low = stats.get("min_value", low)
        high = stats.get("max_value", high)

    def number(v: int) -> str:
        if kind == "euros":
            return euros(v).replace(".", ",")
        if kind == "hours":
            return hours(v, "fi")
        return str(v)

    unit = {"euros": " €", "hours": " h"}.get(kind, "")
    if low is not None and high is not None:
        return f"{number(low)}–{number(high)}{unit}"
    if low is not None:
        return f"≥ {number(low)}{unit}"
    return f"≤ {number(high)}{unit}" if high is not None else ""


def _date_or_none(raw: Any) -> dt.date | None:
    try:
        return cells.date(raw)
    except cells.Unreadable:
        return None


class _Reader:
    def __init__(self, inv: Invoice, book: sheets.Book | None):
        self.inv = inv
        self.book = book
        self.checks: list[_Check] = []

    def check(self, model: type, df: pl.DataFrame, then: Callable[[pl.DataFrame | None], None]) -> None:
        """Validate `df` with the batch, then call `then` with its failure cases."""
        self.checks.append(_Check(model, df, len(self.inv.findings), then))

    def finish(self) -> None:
        """Each sheet's steps after validation, their findings put where the validation stood."""
        shift = 0
        for c in self.checks:
            if c.error is not None:
                raise c.error
            start = len(self.inv.findings)
            c.then(c.failures)
            added = self.inv.findings[start:]
            del self.inv.findings[start:]
            self.inv.findings[c.at + shift:c.at + shift] = added
            shift += len(added)

    # -- findings -------------------------------------------------------------

    def add(self, rule: str, sheet: str | None = None, cell: str | None = None, *, warn: bool = False,
            fatal: bool = False, **kw: Any) -> None:
        if warn:
            kw.update(severity="warning", effect="none")
        self.inv.findings.append(Finding(rule, Location(self.inv.source_file, sheet, cell), **kw))
        self.inv.fatal = self.inv.fatal or fatal

    def missing_column(self, grid: sheets.Grid, spec: ColumnSpec, closest: str) -> None:
        self.add("F004", grid.name, fatal=True, expected=spec.fi, found=closest,
                 params={"sheet": grid.name, "column": spec.fi, "closest": closest})

    # -- the workbook ---------------------------------------------------------

    def read(self) -> None:
        grids = {kind: sheets.find_sheet(self.book, kind) for kind in (*REQUIRED_SHEETS, "guidance")}
        for kind, grid in grids.items():
            if grid is not None:
                self.inv.sheet_names[kind] = grid.name
        for kind in REQUIRED_SHEETS:
            if grids[kind] is None:
                found = ", ".join(self.book.names)
                self.add("F003", fatal=True, expected=sheets.SHEETS[kind][0], found=found, params={"sheets": found})
        if grids["invoice"] is not None:
            self.read_header(grids["invoice"])
        if grids["clients"] is not None:
            self.read_clients(grids["clients"])
        if grids["attendance"] is not None:
            self.read_attendance(grids["attendance"])
        if grids["guidance"] is not None:
            self.read_guidance(grids["guidance"])

    def read_header(self, grid: sheets.Grid) -> None:
        header = self.inv.header
        found = sheets.labels(grid, columns(InvoiceHeader))
        for spec in columns(InvoiceHeader):
            row, raw = found.get(spec.field, (None, None))
            cell = f"B{row}" if row is not None else None
            if cell:
                header.cells[spec.field] = cell
            try:
                value = cells.read(spec.kind, raw)
            except cells.Unreadable as u:
                value = None
                if spec.field not in HEADER_FIELDS:
                    self.add(u.rule, grid.name, cell, warn=True, found=u.found, **what(spec.kind, spec.fi))
            if value is None and spec.field in HEADER_FIELDS:
                self.add("F005", grid.name, cell, fatal=True, expected=spec.fi, found=cells.typed(raw),
                         provider_id=header.provider_id)
            setattr(header, spec.field, value)

    # -- table sheets ---------------------------------------------------------

    def table(self, kind: str, grid: sheets.Grid, specs: list[ColumnSpec], required: bool) -> sheets.Table | None:
        table = sheets.find_table(grid, specs)
        if table is None:
            if required:
                key = next(s for s in specs if s.key)
                first_rows = [v for n, values in grid.rows if n <= sheets.HEADER_SEARCH_ROWS for v in values]
                self.missing_column(grid, key, sheets.closest(key, first_rows))
            return None
        self.inv.columns[kind] = table.letters()
        self.inv.header_rows[kind] = table.header_row
        if required:
            for spec in table.missing:
                if spec.required:
                    self.missing_column(grid, spec, table.closest(spec))
        return table

    def read_cells(self, table: sheets.Table, specs: list[ColumnSpec], kind: str,
                   problems: dict[int, list[tuple[str, str]]], warn_only: bool = False) -> dict[str, list]:
        """Every value of the table's rows read by kind; problems are findings, bad values empty.

        A column at a time, plain values through the quick readers; the cells
        they leave (and empty needed ones) are then read one by one, row by
        row, so that findings come in the order of the cells.
        """
        rows = table.rows
        data: dict[str, list] = {"row": [n for n, _ in rows]}
        left: list[tuple[int, int]] = []  # (row position, spec position) of cells for the full reader
        for k, spec in enumerate(specs):
            index = table.columns.get(spec.field)
            if index is None:
                data[spec.field] = [None] * len(rows)
                continue
            raws = [values[index] if index < len(values) else None for _, values in rows]
            quick = QUICK_READERS.get(spec.kind) if QUICK else None
            if quick is None:
                data[spec.field] = [None] * len(rows)
                left.extend((j, k) for j in range(len(rows)))
                continue
            read = [quick(raw) for raw in raws]
            left.extend((j, k) for j, v in enumerate(read) if v is cells.SLOW or (v is None and spec.needed))
            data[spec.field] = read
        sheet = table.grid.name
        for j, k in sorted(left):
            spec = specs[k]
            n, values = rows[j]
            decision = _quiet_text(sheets.value(values, table.columns.get("decision_id")))
            raw = sheets.value(values, table.columns[spec.field])
            cell = table.cell(spec.field, n)
            try:
                value = _read_value(spec, raw)
            except cells.Unreadable as u:
                value = None
                self.cell_problem(kind, sheet, cell, n, spec, u.rule, problems, warn_only, decision_id=decision,
                                  found=u.found, **what(spec.kind, table.title(spec.field)))
            if value is None and spec.needed and cells.is_empty(raw):
                self.cell_problem(kind, sheet, cell, n, spec, "V102", problems, warn_only,
                                  decision_id=decision, expected=table.title(spec.field),
                                  params={"column": table.title(spec.field)})
            data[spec.field][j] = value
        return data

    def cell_problem(self, kind: str, sheet: str, cell: str, row: int, spec: ColumnSpec, rule: str,
                     problems: dict[int, list[tuple[str, str]]], warn_only: bool, **kw: Any) -> bool:
        """A V1xx finding at its cell; it rejects the row when the value is money (or identifies the client)."""
        rejects = not warn_only and (rule == "V104" or spec.money or (kind == "clients" and spec.field in IDENTITY)
                                     or (kind == "attendance" and spec.field == "decision_id"))
        self.add(rule, sheet, cell, warn=not rejects, row=row if kind == "clients" else None, **kw)
        problems.setdefault(row, []).append((rule, spec.field) if rejects else ("", spec.field))
        return rejects

    def failed(self, failures: pl.DataFrame | None, df: pl.DataFrame, table: sheets.Table, kind: str,
               specs: list[ColumnSpec], problems: dict[int, list[tuple[str, str]]],
               warn_only: bool = False) -> pl.DataFrame:
        """Pandera's failure cases (ranges: V103, henkilötunnus: V104) as findings at their cells."""
        if failures is None:
            return df
        by_field = {s.field: s for s in specs}
        raws = dict(table.rows)
        blank: dict[str, list[int]] = {}
        for f in failures.iter_rows(named=True):
            spec = by_field.get(f["column"])
            if spec is None or spec.field not in table.columns:
                continue
            index = f["index"]
            row = df["row"][index]
            rule = "V104" if f["check"] == "V104" else "V103"
            expected = "henkilötunnus" if rule == "V104" else allowed(MODELS[kind], spec.field, spec.kind)
            found = cells.typed(sheets.value(raws[row], table.columns[spec.field]))
            rejects = self.cell_problem(kind, table.grid.name, table.cell(spec.field, row), row, spec, rule,
                                        problems, warn_only, decision_id=df["decision_id"][index],
                                        expected=expected, found=found,
                                        params={"column": table.title(spec.field)})
            if not rejects:
                blank.setdefault(spec.field, []).append(index)
        for name, indices in blank.items():  # a warned value counts as empty
            df = df.with_columns(pl.when(pl.int_range(pl.len()).is_in(indices)).then(None)
                                 .otherwise(pl.col(name)).alias(name))
        return df

    def duplicates(self, table: sheets.Table, df: pl.DataFrame, kind: str,
                   problems: dict[int, list[tuple[str, str]]]) -> None:
        """V106: a decision number seen on an earlier row rejects the later row."""
        seen: set[str] = set()
        for row, decision in zip(df["row"], df["decision_id"]):
            if decision is None:
                continue
            if decision in seen:
                self.add("V106", table.grid.name, table.cell("decision_id", row), decision_id=decision,
                         row=row if kind == "clients" else None, found=decision, params={"sheet": table.grid.name})
                problems.setdefault(row, []).append(("V106", "decision_id"))
            seen.add(decision)

    @staticmethod
    def rejected(df: pl.DataFrame, problems: dict[int, list[tuple[str, str]]]) -> pl.Series:
        out = []
        for row in df["row"]:
            codes = [rule for rule, _ in problems.get(row, []) if rule]
            out.append(codes[0] if codes else None)
        return pl.Series("rejected", out, dtype=pl.Utf8)

    def read_clients(self, grid: sheets.Grid) -> None:
        specs = columns(Clients)
        table = self.table("clients", grid, specs, required=True)
        if table is None:
            return
        problems: dict[int, list[tuple[str, str]]] = {}
        data = self.read_cells(table, specs, "clients", problems)
        df = pl.DataFrame(data, schema=frame_schema(specs))

        def then(failures: pl.DataFrame | None) -> None:
            checked = self.failed(failures, df, table, "clients", specs, problems)
            self.duplicates(table, checked, "clients", problems)
            self.inv.clients = checked.with_columns(self.rejected(checked, problems))

        self.check(Clients, df, then)

    def read_attendance(self, grid: sheets.Grid) -> None:
        specs = columns(AttendanceKeys)
        table = self.table("attendance", grid, specs, required=True)
        if table is None:
            return
        month = self.inv.header.billing_month
        key_columns = set(table.columns.values())
        day_columns = []
        for i, h in enumerate(table.header):
            day = None if i in key_columns else day_of_header(h, month)
            if day is not None:
                day_columns.append((i, *day))
        if not day_columns:
            self.add("F004", grid.name, fatal=True, expected="1 … 31", found="",
                     params={"sheet": grid.name, "column": "1 … 31"})
        problems: dict[int, list[tuple[str, str]]] = {}
        data = self.read_cells(table, specs, "attendance", problems)
        df = pl.DataFrame(data, schema=frame_schema(specs))

        def then(failures: pl.DataFrame | None) -> None:
            checked = self.failed(failures, df, table, "attendance", specs, problems)
            self.duplicates(table, checked, "attendance", problems)
            self.inv.attendance = checked.select("row", "decision_id", "hetu").with_columns(self.rejected(checked, problems))

        self.check(AttendanceKeys, df, then)
        # Validation never changes a key here (a bad henkilötunnus rejects the row, it is not blanked).
        keys = dict(zip(df["row"], zip(df["decision_id"], df["hetu"])))
        claims = []  # one tuple of DAY_COLUMNS per cell claiming attendance
        day_cells = [(index, day, date, get_column_letter(index + 1)) for index, day, date in day_columns]
        for n, values in table.rows:
            decision, hetu = keys[n]
            width = len(values)
            for index, day, date, letter in day_cells:
                raw = values[index] if index < width else None
                if raw is None:
                    continue
                if QUICK:  # the commonest codes, and hours stored as a number within 0-24 h
                    if raw == "X" or raw == "x":
                        claims.append((n, decision, hetu, day, date, f"{letter}{n}", "X", None, raw))
                        continue
                    if raw in NOT_PRESENT:
                        continue
                    if (hours := cells.quick_hundredths(raw)) is not cells.SLOW and 0 <= hours <= MAX_DAY_H100:
                        claims.append((n, decision, hetu, day, date, f"{letter}{n}", "H", hours, cells.typed(raw)))
                        continue
                if cells.is_empty(raw):
                    continue
                cell = f"{letter}{n}"
                code, hours = self.day_code(grid.name, cell, raw, decision, date)
                if code is not None:
                    claims.append((n, decision, hetu, day, date, cell, code, hours, cells.typed(raw)))
        self.inv.days = pl.DataFrame(claims, schema=DAY_COLUMNS, orient="row")

    def day_code(self, sheet: str, cell: str, raw: Any, decision: str | None,
                 date: dt.date | None) -> tuple[str | None, int | None]:
        """("X", None), ("H", hours), ("?", None) with a finding, or (None, None) for S, P and L."""
        if raw == "X" or raw == "x":  # the commonest
            return "X", None
        code = None if isinstance(raw, cells.CellError) else cells.code(raw)
        if code == "x":
            return "X", None
        if code in ("s", "p", "l"):
            return None, None
        try:
            hours = None if code is None else cells.hundredths(raw)
        except cells.Unreadable:
            hours = None
        if hours is None:
            self.add("V105", sheet, cell, decision_id=decision, date=date, found=cells.typed(raw),
                     expected=DAY_CODES_SHOWN)
            return "?", None
        if not 0 <= hours <= MAX_DAY_H100:
            self.add("V103", sheet, cell, decision_id=decision, date=date, found=cells.typed(raw), expected="0–24 h")
            return "?", None
        return "H", hours

    def read_guidance(self, grid: sheets.Grid) -> None:
        specs = columns(GuidanceLog)
        table = self.table("guidance", grid, specs, required=False)
        if table is None:
            return
        problems: dict[int, list[tuple[str, str]]] = {}
        data = self.read_cells(table, specs, "guidance", problems, warn_only=True)
        types = table.columns.get("type")
        for i, value in enumerate(data["type"]):
            value = GUIDANCE_TYPE_ALIASES.get(value, value)
            if value is not None and value not in ("yksilö", "ryhmä"):
                n, raw = table.rows[i]
                self.add("V101", grid.name, f"{get_column_letter(types + 1)}{n}", warn=True, expected="yksilö / ryhmä",
                         found=cells.typed(sheets.value(raw, types)), params={"column": table.title("type")})
                value = None
            data["type"][i] = value
        df = pl.DataFrame(data, schema=frame_schema(specs))

        def then(failures: pl.DataFrame | None) -> None:
            self.inv.guidance = self.failed(failures, df, table, "guidance", specs, problems, warn_only=True)

        self.check(GuidanceLog, df, then)


def _read_value(spec: ColumnSpec, raw: Any) -> Any:
    """A table cell by its column's kind; henkilötunnus only normalised (Pandera's V104 checks it)."""
    if spec.kind == "hetu":
        s = cells.text(raw)
        return cells.normal_hetu(s) if s is not None else None
    return cells.read(spec.kind, raw)


def _quiet_text(raw: Any) -> str | None:
    try:
        return cells.text(raw)
    except cells.Unreadable:
        return None
