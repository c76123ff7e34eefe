"""The city's registers into frames; any bad value stops the job naming its cell (reconcile.registers)."""

import datetime as dt
from pathlib import Path

import pytest

import wb
from reconcile import config
from reconcile.errors import RegisterError
from reconcile.read.registers import read_registers

ROOT = Path(__file__).resolve().parents[1]
CFG = config.load(ROOT / "config")


def decision(**kw):
    return {"decision_id": "D-1", "hetu": wb.HETU[0], "name": "Asiakas", "provider_id": wb.YTUNNUS[0],
            "voucher_no": "PS-1", "start": dt.date(2026, 1, 1), "end": "31.12.2026", "days_per_week": 4,
            "hours_per_day_h100": "6", "day_value_cents": "50,00", "meal": " Tuottaja", "travel_per_day_cents": "4,50",
            "benefit": "työttömyysetuus", **kw}


def provider(**kw):
    return {"provider_id": wb.YTUNNUS[0], "name": "Testi Oy", "approved_from": "1.1.2026", "own_unit": None,
            "email": "laskut@testi.fi", "lang": None, **kw}


def inbox(tmp_path, decisions, providers, dec_name="decisions.xlsx", prov_name="providers.xlsx", **kw):
    folder = tmp_path / "register"
    folder.mkdir(exist_ok=True)
    wb.write_decisions(folder / dec_name, decisions, **kw)
    wb.write_providers(folder / prov_name, providers, **kw)
    return tmp_path


@pytest.mark.parametrize("engine, lang", [("openpyxl", "fi"), ("xlsxwriter", "sv"), ("openpyxl", "en")])
def test_registers_read_exactly(tmp_path, engine, lang):
    regs = read_registers(inbox(tmp_path, [decision(), decision(decision_id="D-2", hetu=wb.HETU[1], meal="ei")],
                                [provider(), provider(provider_id=wb.YTUNNUS[1], own_unit="Kyllä", lang="sv")],
                                engine=engine, lang=lang), CFG)
    d = regs.decisions.to_dicts()[0]
    assert (d["row"], d["start"], d["end"], d["hours_per_day_h100"], d["day_value_cents"], d["meal"],
            d["travel_per_day_cents"], d["guidance_min_h100"]) == (
        2, dt.date(2026, 1, 1), dt.date(2026, 12, 31), 600, 5000, "tuottaja", 450, None)
    assert regs.providers.select("provider_id", "own_unit", "lang").rows() == [
        ("1234561-2", False, "fi"), ("7654321-2", True, "sv")]
    assert regs.sources["decisions"].source_file == "decisions.xlsx"


@pytest.mark.parametrize("sep, bom", [(";", True), (",", False)])
def test_registers_as_csv(tmp_path, sep, bom):
    regs = read_registers(inbox(tmp_path, [decision(start="2026-01-01")], [provider()], "decisions.csv",
                                "providers.csv", sep=sep, bom=bom), CFG)
    assert regs.decisions["start"].to_list() == [dt.date(2026, 1, 1)]
    assert regs.decisions["day_value_cents"].to_list() == [5000]


@pytest.mark.parametrize("change, where", [
    ({"hetu": "131052-308X"}, "Päätökset!B3"),
    ({"provider_id": "1234561-3"}, "Päätökset!D3"),
    ({"end": "1.12.2025"}, "Päätökset!G3"),
    ({"days_per_week": 5}, "Päätökset!H3"),
    ({"hours_per_day_h100": "3,5"}, "Päätökset!I3"),
    ({"meal": "lounas"}, "Päätökset!K3"),
    ({"benefit": "palkka"}, "Päätökset!M3"),
    ({"decision_id": "D-1"}, "Päätökset!A3"),
    ({"start": None}, "Päätökset!F3"),
    ({"day_value_cents": "#REF!"}, "Päätökset!J3"),
])
def test_bad_decision_value_names_its_cell(tmp_path, change, where):
    rows = [decision(), decision(**{"decision_id": "D-2", "hetu": wb.HETU[1], **change})]
    with pytest.raises(RegisterError) as e:
        read_registers(inbox(tmp_path, rows, [provider()]), CFG)
    assert "decisions.xlsx" in str(e.value) and where in str(e.value)
    assert e.value.exit_code == 3


@pytest.mark.parametrize("change, where", [
    ({"lang": "de"}, "Palveluntuottajat!F3"), ({"own_unit": "ehkä"}, "Palveluntuottajat!D3"),
    ({"provider_id": wb.YTUNNUS[0]}, "Palveluntuottajat!A3"),
])
def test_bad_provider_value_names_its_cell(tmp_path, change, where):
    rows = [provider(), provider(**{"provider_id": wb.YTUNNUS[1], **change})]
    with pytest.raises(RegisterError) as e:
        read_registers(inbox(tmp_path, [decision()], rows), CFG)
    assert "providers.xlsx" in str(e.value) and where in str(e.value)


def test_missing_register_and_column(tmp_path):
    (tmp_path / "register").mkdir()
    wb.write_providers(tmp_path / "register" / "providers.xlsx", [provider()])
    with pytest.raises(RegisterError, match="decisions register is missing"):
        read_registers(tmp_path, CFG)
    rows = [{k: v for k, v in decision().items() if k != "benefit"}]
    with pytest.raises(RegisterError, match="lacks the column Etuus"):
        read_registers(inbox(tmp_path, rows, [provider()]), CFG)


def test_a_register_may_hold_more_rows_than_an_invoice_sheet(tmp_path):
    """A national decisions register outgrows the 20,000-row limit of provider workbooks."""
    import dataclasses

    small = dataclasses.replace(CFG, limits=dataclasses.replace(CFG.limits, max_rows=2, max_register_rows=10))
    rows = [decision(decision_id=f"D-{n}") for n in range(5)]
    regs = read_registers(inbox(tmp_path, rows, [provider()]), small)
    assert regs.decisions.height == 5
    too_small = dataclasses.replace(small, limits=dataclasses.replace(small.limits, max_register_rows=3))
    with pytest.raises(RegisterError, match="decisions.xlsx cannot be opened safely"):
        read_registers(tmp_path, too_small)
