"""The ground the rest stands on: rule catalogue, config, findings, schemas."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reconcile import config
from reconcile.text import rules
from reconcile.errors import ConfigError
from reconcile.findings import Finding, Location
from schemas import columns
from schemas.invoice import Clients

ROOT = Path(__file__).resolve().parents[1]


def test_rates_toml_is_the_contracts():
    cfg = config.load(ROOT / "config")
    r = cfg.rates_for(dt.date(2026, 11, 1))
    assert (r.meal_price_cents, r.meal_compensation_cents, r.expense_compensation_cents) == (680, 500, 900)
    assert r.guidance_min_hours == Decimal("2.0")


def test_rate_block_in_force_on_first_day_of_month(tmp_path):
    (tmp_path / "rates.toml").write_text(
        "[[rates]]\nvalid_from = 2026-01-01\nmeal_price_eur = 6.80\nmeal_compensation_eur = 5\n"
        "expense_compensation_eur = 9\nguidance_min_hours = 2\n"
        "[[rates]]\nvalid_from = 2026-11-15\nmeal_price_eur = 7.10\nmeal_compensation_eur = 5\n"
        "expense_compensation_eur = 9\nguidance_min_hours = 2\n",
        encoding="utf-8",
    )
    cfg = config.load(tmp_path)
    assert cfg.rates_for(dt.date(2026, 11, 1)).meal_price_cents == 680
    assert cfg.rates_for(dt.date(2026, 12, 1)).meal_price_cents == 710
    with pytest.raises(ConfigError, match="no rate block"):
        cfg.rates_for(dt.date(2025, 12, 1))


@pytest.mark.parametrize(
    "text, match",
    [
        ("[[rates]]\nvalid_from = 2026-01-01\nmeal_price_eur = 6.80\n", "missing"),
        ("[[rates]]\nvalid_from = 2026-01-01\nmeal_price_eur = 'x'\nmeal_compensation_eur = 5\nexpense_compensation_eur = 9\nguidance_min_hours = 2\n", "meal_price_eur"),
        ("[[rates]]\nvalid_from = 2026-01-01\nmeal_price_eur = 6.801\nmeal_compensation_eur = 5\nexpense_compensation_eur = 9\nguidance_min_hours = 2\n", "two decimals"),
        ("[[rates]]\nvalid_from = 2026-01-01\nmeal_price_eur = 6\nmeal_compensation_eur = 5\nexpense_compensation_eur = 9\nguidance_min_hours = 2\nbonus = 1\n", "unknown key 'bonus'"),
        ("[[rates]]\nvalid_from = 2026-01-01\nmeal_price_eur = 6\nmeal_compensation_eur = 5\nexpense_compensation_eur = 9\nguidance_min_hours = 2\n" * 2, "overlap"),
    ],
)
def test_bad_rates_name_file_and_key(tmp_path, text, match):
    (tmp_path / "rates.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as e:
        config.load(tmp_path)
    assert "rates.toml" in str(e.value)
    assert e.value.exit_code == 3


def test_unknown_setting_is_an_error(tmp_path):
    (tmp_path / "rates.toml").write_text((ROOT / "config" / "rates.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "settings.toml").write_text("[limits]\nmax_rowz = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="limits.'max_rowz'|'max_rowz'"):
        config.load(tmp_path)


def test_finding_takes_severity_and_effect_from_catalogue():
    f = Finding("R216", Location("a.xlsx", "Läsnäolo", "K7"))
    assert (f.severity, f.effect, f.location.ref) == ("error", "hold", "Läsnäolo!K7")
    assert Finding("V101", severity="warning", effect="none").effect == "none"
    with pytest.raises(KeyError):
        Finding("Z999")


def test_catalogue_is_consistent():
    for code, rule in rules.CATALOGUE.items():
        assert rule.severity in rules.SEVERITIES
        assert rule.effect in rules.EFFECTS
        assert (rule.severity == "error") == (rule.effect != "none"), code


def test_render_never_fails_on_missing_fields():
    assert rules.render("{a} and {b}", {"a": 1}) == "1 and "


def test_schema_headers_come_from_one_place():
    names = [c.fi for c in columns(Clients)]
    assert names[:4] == ["Päätösnumero", "Henkilötunnus", "Nimi", "Läsnäolopäivät"]
    assert [c.field for c in columns(Clients) if c.required] == ["decision_id", "hetu", "days_claimed", "fee_cents"]
