"""The city's registers: placement decisions and approved providers (CONTRACT.md 2.1, 2.2)."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa
from pandera.polars import Field

from schemas.checks import element_check, valid_hetu, valid_ytunnus
from schemas.spec import col

MEALS = ("tuottaja", "korvaus", "ei")
BENEFITS = ("työttömyysetuus", "toimeentulotuki", "kuntoutustuki", "eläke")
NEXT_STEPS = ("työ", "koulutus", "työkokeilu", "te-palvelu", "uusi jakso", "muu")
YES_NO = ("kyllä", "ei")
LANGS = ("fi", "sv", "en")


class Decisions(pa.DataFrameModel):
    """Sheet `Päätökset`: one row per placement decision."""

    row: pl.Int64 = Field(ge=1)
    decision_id: pl.Utf8 = Field(unique=True, metadata=col("Päätösnumero", "Beslutsnummer", "Decision id", "text", required=True, needed=True, key=True))
    hetu: pl.Utf8 = Field(metadata=col("Henkilötunnus", "Personbeteckning", "Personal id", "hetu", required=True, needed=True))
    name: pl.Utf8 = Field(nullable=True, metadata=col("Nimi", "Namn", "Name", "text"))
    provider_id: pl.Utf8 = Field(metadata=col("Y-tunnus", "FO-nummer", "Business id", "ytunnus", required=True, needed=True))
    voucher_no: pl.Utf8 = Field(nullable=True, metadata=col("Palvelusetelin numero", "Servicesedel", "Voucher no", "text"))
    start: pl.Date = Field(metadata=col("Alkupäivä", "Startdatum", "Start", "date", required=True, needed=True))
    end: pl.Date = Field(metadata=col("Loppupäivä", "Slutdatum", "End", "date", required=True, needed=True))
    terminated: pl.Date = Field(nullable=True, metadata=col("Päättynyt", "Avslutad", "Terminated", "date"))
    days_per_week: pl.Int64 = Field(ge=1, le=4, metadata=col("Päivää viikossa", "Dagar per vecka", "Days per week", "int", required=True, needed=True))
    hours_per_day_h100: pl.Int64 = Field(ge=400, le=800, metadata=col("Tuntia päivässä", "Timmar per dag", "Hours per day", "hours", required=True, needed=True))
    day_value_cents: pl.Int64 = Field(ge=0, metadata=col("Setelin arvo €/pv", "Sedelns värde €/dag", "Day value", "euros", required=True, needed=True))
    meal: pl.Utf8 = Field(isin=list(MEALS), metadata=col("Ateria", "Måltid", "Meal", "code", required=True, needed=True, codes=MEALS))
    travel_per_day_cents: pl.Int64 = Field(ge=0, metadata=col("Matkakorvaus €/pv", "Reseersättning €/dag", "Travel per day", "euros", required=True, needed=True))
    benefit: pl.Utf8 = Field(isin=list(BENEFITS), metadata=col("Etuus", "Förmån", "Benefit", "code", required=True, needed=True, codes=BENEFITS))
    guidance_min_h100: pl.Int64 = Field(nullable=True, ge=0, metadata=col("Ohjaus min h/kk", "Handledning min h/mån", "Guidance min", "hours"))
    caseworker: pl.Utf8 = Field(nullable=True, metadata=col("Omatyöntekijä", "Egen arbetstagare", "Caseworker", "text"))
    next_step: pl.Utf8 = Field(nullable=True, metadata=col("Jatkopolku", "Fortsatt väg", "Next step", "code", codes=NEXT_STEPS))

    @pa.check("hetu", name="V104")
    def _hetu_valid(cls, data) -> pl.LazyFrame:
        return element_check(data, valid_hetu)

    @pa.check("provider_id", name="ytunnus")
    def _ytunnus_valid(cls, data) -> pl.LazyFrame:
        return element_check(data, valid_ytunnus)

    @pa.dataframe_check(name="end_after_start")
    def _end_after_start(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("end") >= pl.col("start"))

    class Config:
        strict = False


class Providers(pa.DataFrameModel):
    """Sheet `Palveluntuottajat`: one row per approved provider."""

    row: pl.Int64 = Field(ge=1)
    provider_id: pl.Utf8 = Field(unique=True, metadata=col("Y-tunnus", "FO-nummer", "Business id", "ytunnus", required=True, needed=True, key=True))
    name: pl.Utf8 = Field(nullable=True, metadata=col("Nimi", "Namn", "Name", "text"))
    approved_from: pl.Date = Field(metadata=col("Hyväksytty alkaen", "Godkänd från", "Approved from", "date", required=True, needed=True))
    approved_to: pl.Date = Field(nullable=True, metadata=col("Hyväksytty asti", "Godkänd till", "Approved to", "date"))
    own_unit: pl.Boolean = Field(metadata=col("Oma yksikkö", "Egen enhet", "Own unit", "code", codes=YES_NO))
    email: pl.Utf8 = Field(nullable=True, metadata=col("Sähköposti", "E-post", "Email", "text"))
    lang: pl.Utf8 = Field(isin=list(LANGS), metadata=col("Kieli", "Språk", "Language", "code", codes=LANGS))

    @pa.check("provider_id", name="ytunnus")
    def _ytunnus_valid(cls, data) -> pl.LazyFrame:
        return element_check(data, valid_ytunnus)

    class Config:
        strict = False
