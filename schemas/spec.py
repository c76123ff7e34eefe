"""Column metadata helpers and the sheet names in fi/sv/en."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

# Sheet kind -> names (fi, sv, en). The first is the one the program writes.
SHEETS: dict[str, tuple[str, str, str]] = {
    "decisions": ("Päätökset", "Beslut", "Decisions"),
    "providers": ("Palveluntuottajat", "Serviceproducenter", "Providers"),
    "invoice": ("Lasku", "Faktura", "Invoice"),
    "clients": ("Asiakkaat", "Klienter", "Clients"),
    "attendance": ("Läsnäolo", "Närvaro", "Attendance"),
    "guidance": ("Ohjaus", "Handledning", "Guidance"),
}

# How a cell is read (reconcile.cells): the kinds of value the contract knows.
KINDS = ("text", "hetu", "ytunnus", "date", "month", "int", "euros", "hours", "code")


@dataclass(frozen=True)
class SheetSpec:
    kind: str
    names: tuple[str, str, str]


@dataclass(frozen=True)
class ColumnSpec:
    field: str  # normalised column name
    fi: str
    sv: str
    en: str
    kind: str  # one of KINDS
    required: bool = False  # a missing column is F004 (invoices) / a register error
    needed: bool = False  # value must be present (V102 / register error when empty)
    money: bool = False  # an unreadable value rejects the row (V101 as reject)
    key: bool = False  # the first key header marks the header row
    codes: tuple[str, ...] = ()  # accepted codes, case-folded, for kind "code"
    aliases: tuple[str, ...] = ()  # further accepted header texts

    @property
    def names(self) -> tuple[str, ...]:
        return (self.fi, self.sv, self.en, *self.aliases)

    def header(self, lang: str = "fi") -> str:
        return {"fi": self.fi, "sv": self.sv, "en": self.en}[lang]


def col(fi: str, sv: str, en: str, kind: str, **flags: Any) -> dict[str, Any]:
    """Field metadata for a Pandera field: `Field(metadata=col(...))`."""
    return {"fi": fi, "sv": sv, "en": en, "kind": kind, **flags}


def columns(model: type) -> list[ColumnSpec]:
    """The header columns of a model, in declaration order (not `row`)."""
    return list(_columns(model))


@functools.cache
def _columns(model: type) -> tuple[ColumnSpec, ...]:
    out = []
    for name, fld in model.__fields__.items():
        meta = (fld[1].metadata if isinstance(fld, tuple) else fld.metadata) or {}
        if "fi" not in meta:
            continue
        out.append(
            ColumnSpec(
                field=name,
                fi=meta["fi"],
                sv=meta["sv"],
                en=meta["en"],
                kind=meta["kind"],
                required=meta.get("required", False),
                needed=meta.get("needed", False),
                money=meta.get("money", False),
                key=meta.get("key", False),
                codes=tuple(meta.get("codes", ())),
                aliases=tuple(meta.get("aliases", ())),
            )
        )
    return tuple(out)


def dtypes(model: type, *fields: str) -> dict[str, Any]:
    """The Polars dtype of each named column of a model (all of them, `row` included, when
    none are named), in the order asked for."""
    declared = {name: column.dtype.type for name, column in model.to_schema().columns.items()}
    return {f: declared[f] for f in (fields or declared)}


def header_names(model: type, lang: str = "fi") -> list[str]:
    return [c.header(lang) for c in columns(model)]
