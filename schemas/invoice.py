"""The provider invoice workbook (CONTRACT.md 2.3): `Lasku`, `Asiakkaat`, `Läsnäolo`, `Ohjaus`."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa
from pandera.polars import Field

from schemas.checks import element_check, valid_hetu
from schemas.spec import col

DAY_CODES = ("x", "s", "p", "l")  # present / sick / absent without notice / on leave
GUIDANCE_TYPES = ("yksilö", "ryhmä")
# Also accepted in a Swedish or English guidance log (not in CONTRACT.md, see README).
GUIDANCE_TYPE_ALIASES = {"individuell": "yksilö", "individual": "yksilö", "grupp": "ryhmä", "group": "ryhmä"}


class InvoiceHeader(pa.DataFrameModel):
    """Sheet `Lasku`: labels in column A, values in column B; one row after reading."""

    provider_name: pl.Utf8 = Field(nullable=True, metadata=col("Palveluntuottaja", "Serviceproducent", "Provider", "text"))
    provider_id: pl.Utf8 = Field(metadata=col("Y-tunnus", "FO-nummer", "Business id", "ytunnus", required=True, needed=True))
    invoice_no: pl.Utf8 = Field(metadata=col("Laskun numero", "Fakturanummer", "Invoice number", "text", required=True, needed=True))
    billing_month: pl.Date = Field(metadata=col("Laskutuskausi", "Faktureringsperiod", "Billing month", "month", required=True, needed=True))
    invoice_date: pl.Date = Field(nullable=True, metadata=col("Laskun päivämäärä", "Fakturadatum", "Invoice date", "date"))
    total_cents: pl.Int64 = Field(nullable=True, metadata=col("Yhteensä €", "Totalt €", "Total", "euros"))

    class Config:
        strict = False


class Clients(pa.DataFrameModel):
    """Sheet `Asiakkaat`: one row per decision billed this month."""

    row: pl.Int64 = Field(ge=1)
    decision_id: pl.Utf8 = Field(nullable=True, metadata=col("Päätösnumero", "Beslutsnummer", "Decision id", "text", required=True, needed=True, key=True))
    hetu: pl.Utf8 = Field(nullable=True, metadata=col("Henkilötunnus", "Personbeteckning", "Personal id", "hetu", required=True, needed=True))
    name: pl.Utf8 = Field(nullable=True, metadata=col("Nimi", "Namn", "Name", "text"))
    days_claimed: pl.Int64 = Field(nullable=True, ge=0, le=23, metadata=col("Läsnäolopäivät", "Närvarodagar", "Attendance days", "int", required=True, needed=True, money=True))
    day_value_cents: pl.Int64 = Field(nullable=True, ge=0, metadata=col("Setelin arvo €/pv", "Sedelns värde €/dag", "Day value", "euros"))
    fee_cents: pl.Int64 = Field(nullable=True, ge=0, metadata=col("Palvelumaksu €", "Serviceavgift €", "Service fee", "euros", required=True, needed=True, money=True))
    meals: pl.Int64 = Field(nullable=True, ge=0, metadata=col("Ateriat", "Måltider", "Meals", "int", money=True))
    meal_comp_days: pl.Int64 = Field(nullable=True, ge=0, metadata=col("Ateriakorvauspäivät", "Måltidsersättningsdagar", "Meal compensation days", "int", money=True))
    travel_cents: pl.Int64 = Field(nullable=True, ge=0, metadata=col("Matkakorvaus €", "Reseersättning €", "Travel", "euros", money=True))
    guidance_individual_h100: pl.Int64 = Field(nullable=True, ge=0, le=2400, metadata=col("Yksilöohjaus h", "Individuell handledning h", "Individual guidance h", "hours"))
    guidance_group_h100: pl.Int64 = Field(nullable=True, ge=0, le=2400, metadata=col("Ryhmäohjaus h", "Grupphandledning h", "Group guidance h", "hours"))
    kykyviisari_date: pl.Date = Field(nullable=True, metadata=col("Kykyviisari pvm", "Kykyviisari datum", "Kykyviisari date", "date"))
    vat_date: pl.Date = Field(nullable=True, metadata=col("VAT pvm", "VAT datum", "VAT date", "date"))
    total_cents: pl.Int64 = Field(nullable=True, metadata=col("Yhteensä €", "Totalt €", "Total", "euros"))
    notes: pl.Utf8 = Field(nullable=True, metadata=col("Lisätiedot", "Tilläggsuppgifter", "Notes", "text"))

    @pa.check("hetu", name="V104")
    def _hetu_valid(cls, data) -> pl.LazyFrame:
        return element_check(data, valid_hetu)

    class Config:
        strict = False


class AttendanceKeys(pa.DataFrameModel):
    """Sheet `Läsnäolo`: key columns; the day columns `1`..`31` follow (see `reconcile.invoice`)."""

    row: pl.Int64 = Field(ge=1)
    decision_id: pl.Utf8 = Field(nullable=True, metadata=col("Päätösnumero", "Beslutsnummer", "Decision id", "text", required=True, needed=True, key=True))
    hetu: pl.Utf8 = Field(nullable=True, metadata=col("Henkilötunnus", "Personbeteckning", "Personal id", "hetu"))

    @pa.check("hetu", name="V104")
    def _hetu_valid(cls, data) -> pl.LazyFrame:
        return element_check(data, valid_hetu)

    class Config:
        strict = False


class GuidanceLog(pa.DataFrameModel):
    """Sheet `Ohjaus` (optional): one row per guidance session."""

    row: pl.Int64 = Field(ge=1)
    decision_id: pl.Utf8 = Field(nullable=True, metadata=col("Päätösnumero", "Beslutsnummer", "Decision id", "text", key=True))
    hetu: pl.Utf8 = Field(nullable=True, metadata=col("Henkilötunnus", "Personbeteckning", "Personal id", "hetu", key=True))
    date: pl.Date = Field(nullable=True, metadata=col("Päivämäärä", "Datum", "Date", "date"))
    hours_h100: pl.Int64 = Field(nullable=True, ge=0, le=2400, metadata=col("Kesto h", "Längd h", "Duration h", "hours"))
    type: pl.Utf8 = Field(nullable=True, metadata=col("Tyyppi", "Typ", "Type", "code", codes=GUIDANCE_TYPES + tuple(GUIDANCE_TYPE_ALIASES)))
    instructor: pl.Utf8 = Field(nullable=True, metadata=col("Ohjaaja", "Handledare", "Instructor", "text"))

    @pa.check("hetu", name="V104")
    def _hetu_valid(cls, data) -> pl.LazyFrame:
        return element_check(data, valid_hetu)

    class Config:
        strict = False
