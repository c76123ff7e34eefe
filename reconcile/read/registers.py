"""Stage 1 of the pipeline: the city's own registers into validated frames.

    inbox/register/decisions.xlsx|.csv  -> Decisions   (schemas.registers)
    inbox/register/providers.xlsx|.csv  -> Providers

Same sheet and header matching and the same cell reading as the invoices
(`sheets`, `cells`). Unlike an invoice, a register is trusted to decide
money, so any problem in it stops the job: `read_registers` raises
`errors.RegisterError` (exit 3) naming the file, sheet and cell of the first
problem and how many more there are. The city fixes its register before
money moves. Defaults: an empty Kieli is `fi`, an empty Oma yksikkö is `ei`,
an empty Ohjaus min h/kk stays empty (the config's minimum applies later).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl

from reconcile.read import cells, intake, sheets
from reconcile.config import Config
from reconcile.errors import RegisterError
from reconcile.read.invoice import frame_schema
from reconcile.model import Registers, Submission
from schemas import SHEETS, ColumnSpec, columns
from schemas.checks import valid_hetu, valid_ytunnus
from schemas.registers import Decisions, Providers

DEFAULTS = {"lang": "fi", "own_unit": "ei"}
_YTUNNUS = re.compile(r"[0-9]{7}-[0-9]")


def _quick_hetu(raw: Any) -> Any:
    """`cells.hetu(raw)` for a valid henkilötunnus in plain text (normalised once, not twice); else SLOW.
    The schema's own check (cached) judges it, so Pandera's V104 check finds the answer ready."""
    s = cells.quick_normal_hetu(raw)
    if s.__class__ is str:
        return s if valid_hetu(s) else cells.SLOW
    return s


def _quick_ytunnus(raw: Any) -> Any:
    """`cells.ytunnus(raw)` for a valid Y-tunnus written exactly `1234567-8`; else SLOW.
    python-stdnum judges the check digit, through the schema's own (cached) check."""
    s = cells.quick_text(raw)
    if s.__class__ is str:
        return s if _YTUNNUS.fullmatch(s) and valid_ytunnus(s) else cells.SLOW
    return s


QUICK_READERS = {**cells.QUICK, "hetu": _quick_hetu, "ytunnus": _quick_ytunnus}  # each the same as cells.read, or SLOW
CHECK_WORDS = {"V104": "not a valid henkilötunnus", "ytunnus": "not a valid Y-tunnus (1234567-8)",
               "field_uniqueness": "appears twice", "end_after_start": "end date before start date"}


def read_registers(inbox: Path, config: Config) -> Registers:
    """Both registers, validated; RegisterError when one is missing, unreadable or holds a bad value."""
    folder = Path(inbox) / "register"
    decisions, dsub = read_register(folder, "decisions", Decisions, config)
    providers, psub = read_register(folder, "providers", Providers, config)
    return Registers(decisions=decisions, providers=providers, sources={"decisions": dsub, "providers": psub})


SHOWN_PROBLEMS = 50  # a register's bad values listed one by one; past this, a count


def _locate(folder: Path, kind: str) -> Path:
    found = [folder / f"{kind}{suffix}" for suffix in (".xlsx", ".csv") if (folder / f"{kind}{suffix}").is_file()]
    if len(found) > 1:
        raise RegisterError(f"Both {found[0]} and {found[1]} exist: which is the {kind} register is not clear.",
                            "Keep only the register the city means and run again.")
    if found:
        return found[0]
    raise RegisterError(f"The {kind} register is missing: expected {folder / kind}.xlsx or .csv.",
                        "Put the city's register there and run again.")


def read_register(folder: Path, kind: str, model: type, config: Config) -> tuple[pl.DataFrame, Submission]:
    path = _locate(folder, kind)
    sub = intake.submission(path)
    name = sub.source_file
    if path.suffix == ".csv":
        try:
            book = sheets.read_csv(path, SHEETS[kind][0])
        except (UnicodeDecodeError, OSError) as exc:
            raise RegisterError(f"The register {name} cannot be read as UTF-8 CSV ({type(exc).__name__}).") from None
    else:
        inspection = intake.examine(sub, config.limits.for_registers())
        if inspection.finding is not None:
            raise RegisterError(f"The register {name} cannot be opened safely: {inspection.finding.found}.")
        try:
            book = sheets.open_book(inspection)
        except Exception as exc:  # noqa: BLE001 - any library error means: not readable
            raise RegisterError(f"The register {name} cannot be read ({type(exc).__name__}: {exc}).") from None
    grid = sheets.find_sheet(book, kind)
    if grid is None:
        raise RegisterError(f"The register {name} has no sheet {SHEETS[kind][0]} "
                            f"(sheets found: {', '.join(book.names) or 'none'}).")
    specs = columns(model)
    table = sheets.find_table(grid, specs)
    key = next(s for s in specs if s.key)
    if table is None:
        raise RegisterError(f"The register {name}, sheet {grid.name}, has no header row with {key.fi} "
                            f"among its first {sheets.HEADER_SEARCH_ROWS} rows.")
    for spec in table.missing:
        if spec.required:
            raise RegisterError(f"The register {name}, sheet {grid.name}, lacks the column {spec.fi} "
                                f"(closest header found: {table.closest(spec) or 'none'}).")
    problems: list[str] = []
    df = _frame(table, specs, problems)
    df = _validate(model, df, table, specs, problems)
    if problems:
        listed = "".join(f"\n  {problem}" for problem in problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        listed += f"\n  ... and {more} more." if more > 0 else ""
        raise RegisterError(f"The register {name} has {len(problems)} bad value(s):{listed}",
                            "Correct the register and run again.")
    return df, sub


def _frame(table: sheets.Table, specs: list[ColumnSpec], problems: list[str]) -> pl.DataFrame:
    data: dict[str, list[Any]] = {"row": [n for n, _ in table.rows]}
    for spec in specs:
        values = []
        index = table.columns.get(spec.field)
        column = f"{table.grid.name}!{table.letter(spec.field)}" if index is not None else None
        quick = QUICK_READERS.get(spec.kind)
        for n, row in table.rows:
            raw = sheets.value(row, index)
            where = f"{column}{n}" if column is not None else ""
            value = cells.SLOW if quick is None else quick(raw)
            if value is cells.SLOW:
                try:
                    value = cells.read(spec.kind, raw)
                except cells.Unreadable as u:
                    problems.append(f"{where} ({spec.fi}: expected {u.expected}, found '{u.found}')")
                    value = None
            if value is None and spec.field in DEFAULTS:
                value = DEFAULTS[spec.field]
            if value is None and spec.needed:
                problems.append(f"{where} ({spec.fi}: empty)")
            if spec.field == "own_unit" and value is not None:
                if value not in ("kyllä", "ei"):
                    problems.append(f"{where} ({spec.fi}: expected kyllä or ei, found '{cells.typed(raw)}')")
                value = value == "kyllä"
            values.append(value)
        data[spec.field] = values
    schema = frame_schema(specs)
    if "own_unit" in schema:
        schema["own_unit"] = pl.Boolean
    return pl.DataFrame(data, schema=schema)


def _validate(model: type, df: pl.DataFrame, table: sheets.Table, specs: list[ColumnSpec],
              problems: list[str]) -> pl.DataFrame:
    try:
        return model.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        failures = err.failure_cases.filter(pl.col("index").is_not_null())
    headers = {s.field: s.fi for s in specs}
    seen: set[tuple[str, str]] = set()
    for f in failures.sort("index").iter_rows(named=True):
        if f["check"] == "not_nullable":  # an empty needed value is already a problem
            continue
        if f["check"] == "field_uniqueness" and (f["column"], f["failure_case"]) not in seen:
            seen.add((f["column"], f["failure_case"]))  # the first of a duplicate value is not the problem
            continue
        n = df["row"][f["index"]]
        field = f["column"] if f["column"] in table.columns else "end"  # the dataframe check: end < start
        if field not in table.columns:
            continue
        what = CHECK_WORDS.get(f["check"], f"expected {f['check']}")
        if f["check"].startswith("isin"):
            what = "expected one of " + ", ".join(next(s.codes for s in specs if s.field == field))
        problems.append(f"{table.grid.name}!{table.letter(field)}{n} ({headers[field]}: {what}, "
                        f"found '{f['failure_case']}')")
    return df
