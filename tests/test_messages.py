"""Messages: every catalogued code speaks fi, sv and en, fills in its figures, and never fails."""

import datetime as dt
import re
from pathlib import Path

import pytest

from reconcile.text import messages, rules
from reconcile.findings import Finding, Location


@pytest.mark.parametrize("code", sorted(rules.CATALOGUE))
def test_every_code_has_three_languages(code):
    rule = rules.get(code)
    assert set(rule.texts) == {"fi", "sv", "en"}, code
    for lang in rules.LANGUAGES:
        assert rule.texts[lang].message.strip() and rule.texts[lang].fix.strip(), (code, lang)
    # The three languages are translations, not copies.
    assert len({rule.texts[lang].message for lang in rules.LANGUAGES}) == 3, code


@pytest.mark.parametrize("code", sorted(rules.CATALOGUE))
@pytest.mark.parametrize("lang", rules.LANGUAGES)
def test_rendering_never_fails_and_leaves_no_placeholders(code, lang):
    bare = Finding(code)
    full = Finding(code, Location("x.xlsx", "Läsnäolo", "K7"), decision_id="D-1", date=dt.date(2026, 11, 3),
                   expected="4", found="5", amount_cents=-4500, params={"detail": "x", "odd": object()})
    for f in (bare, full):
        for text in (messages.message(f, lang), messages.fix(f, lang)):
            assert text and "{" not in text and "}" not in text and "[" not in text and "]" not in text
            assert "  " not in text and " ." not in text and "()" not in text


def test_figures_are_filled_in_per_language():
    f = Finding("R208", Location("a.xlsx", "Asiakkaat", "D5"), decision_id="D-1", expected="3", found="5",
                amount_cents=-123450)
    assert messages.message(f, "fi") == ("Läsnäolopäiviä on laskutettu 5, mutta Läsnäolo-välilehdellä on 3 "
                                         "läsnäolopäivää; vain merkityt päivät maksetaan (vähennys 1\u00a0234,50\u00a0€).")
    assert "(avdrag 1\u00a0234,50\u00a0€)" in messages.message(f, "sv")
    assert "(less €1,234.50)" in messages.message(f, "en")


def test_dates_follow_the_language_and_empty_figures_are_left_out():
    f = Finding("V105", Location("a.xlsx", "Läsnäolo", "K7"), date=dt.date(2026, 11, 3), found="Q")
    assert messages.message(f, "fi") == ("Päivän 3.11.2026 solussa K7 on merkintä ”Q”, joka ei ole sallittu koodi; "
                                         "päivää ei makseta.")
    assert "2026-11-03" in messages.message(f, "en")
    no_date = Finding("V105", Location("a.xlsx", "Läsnäolo", "K7"), found="Q")
    assert messages.message(no_date, "fi").startswith("Päivän solussa K7 on merkintä ”Q”")


def test_params_in_cents_and_hundredths_are_formatted():
    v = messages.values(Finding("R213", params={"limit_cents": 450, "hours_h100": 450, "when": dt.date(2026, 1, 2)}), "fi")
    assert (v["limit_eur"], v["hours_h"], v["when"]) == ("4,50\u00a0€", "4,5", "2.1.2026")
    assert messages.values(Finding("R213", params={"limit_cents": 450}), "en")["limit_eur"] == "€4.50"


def test_a_henkilotunnus_never_appears_in_full():
    f = Finding("V104", Location("a.xlsx", "Asiakkaat", "B2"), found="131052-308T")
    for lang in rules.LANGUAGES:
        text = messages.message(f, lang)
        assert "131052-308T" not in text and "131052-****" in text
    assert messages.redact("a 010190A123M b 020202Y4564") == "a 010190A**** b 020202Y****"


def test_another_providers_business_id_is_not_shown():
    assert messages.provider_view("1234561-2 and 7654321-2", "1234561-2", "fi") == "1234561-2 and toinen palveluntuottaja"
    assert messages.provider_view("7654321-2", "1234561-2", "en") == "another provider"


def test_text_with_braces_from_a_workbook_is_shown_as_typed():
    f = Finding("V101", Location("a.xlsx", "Asiakkaat", "D2"), found="{0} {x} [y]")
    assert "”{0} {x} [y]”" in messages.message(f, "fi")


def test_intake_reasons_are_in_the_readers_language(tmp_path):
    """A Finnish or Swedish provider reads why its file was refused in its own language."""
    from pathlib import Path

    import hostile
    from reconcile import config
    from reconcile.read import intake

    limits = config.load(Path(__file__).resolve().parents[1] / "config").limits
    base = hostile.base_workbook(tmp_path / "base.xlsx")
    for rule, kind, make in [("F002", "macros", hostile._xlsm), ("F001", "empty", hostile._empty)]:
        f = intake.inspect(intake.submission(make(tmp_path, base)), limits)
        assert (f.rule, f.params["kind"]) == (rule, kind)
        assert messages.message(f, "en").count(f.found) == 1  # intake's English sentence, figures and all
        for lang, word in (("fi", {"macros": "makroja", "empty": "tyhjä"}), ("sv", {"macros": "makron", "empty": "tom"})):
            text = messages.message(f, lang)
            assert word[kind] in text and f.found not in text, (lang, text)


# --- issue 15: the provider's words and number forms --------------------------------------------

LOC = Location("a.xlsx", "Asiakkaat", "E4")


@pytest.mark.parametrize("code, expected, found, fi, en", [
    ("R209", "45.00", "46.50", ("45,00\u00a0€", "46,50\u00a0€"), ("€45.00", "€46.50")),
    ("R210", "380.00", "390.00", ("380,00\u00a0€", "390,00\u00a0€"), ("€380.00", "€390.00")),
    ("R213", "25.20", "28.00", ("25,20\u00a0€", "28,00\u00a0€"), ("€25.20", "€28.00")),
    ("R220", "4729.20", "4739.20", ("4\u00a0729,20\u00a0€", "4\u00a0739,20\u00a0€"), ("€4,729.20", "€4,739.20")),
    ("R221", "648.40", "649.40", ("648,40\u00a0€", "649,40\u00a0€"), ("€648.40", "€649.40")),
])
def test_one_number_form_in_a_sentence(code, expected, found, fi, en):
    """Euros in a message are all written one way: `46,50 €` in Finnish and Swedish, `€46.50` in English."""
    f = Finding(code, LOC, decision_id="D-1", expected=expected, found=found, amount_cents=-1800)
    for lang in ("fi", "sv"):
        text = messages.message(f, lang)
        assert fi[0] in text and fi[1] in text, text
        assert not re.search(r"\d\.\d\d", text), text
        assert messages.provider_figures(f, lang) == fi
    text = messages.message(f, "en")
    assert en[0] in text and en[1] in text and not re.search(r"\d,\d\d(?!\d)", text.replace(en[0], "").replace(en[1], ""))
    assert messages.provider_figures(f, "en") == en


@pytest.mark.parametrize("f, lang, expected, found", [
    (Finding("V104", LOC, expected="henkilötunnus", found="281106A****"), "sv", "Personbeteckning", "281106A****"),
    (Finding("V104", LOC, expected="henkilötunnus", found="281106A****"), "en", "Personal id", "281106A****"),
    (Finding("R218", LOC, expected="työttömyysetuus, toimeentulotuki", found="kuntoutustuki"), "sv",
     "arbetslöshetsförmån, utkomststöd", "rehabiliteringsstöd"),
    (Finding("R218", LOC, expected="työttömyysetuus, toimeentulotuki", found="eläke"), "en",
     "unemployment benefit, social assistance", "pension"),
    (Finding("F005", LOC, expected="Laskun numero"), "sv", "Fakturanummer", ""),
    (Finding("F004", LOC, expected="Läsnäolopäivät", found="VAT datum"), "sv", "Närvarodagar", "VAT datum"),
    (Finding("F003", LOC, expected="Läsnäolo", found="Lasku, Asiakkaat"), "en", "Attendance", "Lasku, Asiakkaat"),
    (Finding("R207", LOC, found="sunnuntai", date=dt.date(2026, 11, 22)), "sv", "", "söndag"),
    (Finding("R207", LOC, found="Itsenäisyyspäivä", date=dt.date(2026, 12, 6)), "sv", "", "Självständighetsdagen"),
    (Finding("R206", LOC, expected="4.00", found="3.50"), "fi", "4 h", "3,5 h"),
    (Finding("R204", LOC, expected="2026-11-09–2027-05-08", found="2026-11-05"), "sv", "9.11.2026–8.5.2027", "5.11.2026"),
    (Finding("V101", LOC, expected="3.11.2026", found="31.11.2026"), "en", "2026-11-03", "31.11.2026"),  # typed: as typed
    (Finding("V107", LOC, expected="12,50 €", found="#REF!"), "en", "€12.50", "#REF!"),
])
def test_expected_and_found_in_the_readers_words(f, lang, expected, found):
    assert messages.provider_figures(f, lang) == (expected, found)


def test_a_swedish_message_quotes_no_finnish_header():
    f = Finding("F005", Location("a.xlsx", "Faktura", "B3"), expected="Laskun numero")
    assert messages.message(f, "sv").endswith(": Fakturanummer.")


def test_the_catalogues_example_ytunnus_is_not_taken_for_another_provider():
    from wb import YTUNNUS

    f = Finding("F005", Location("a.xlsx", "Faktura", "B2"), expected="Y-tunnus")
    fix = messages.provider_view(messages.fix(f, "sv"), YTUNNUS[0], "sv")
    assert "FO-nummer (formen 1234567-8)" in fix  # 1234567-8 has no valid check digit: an example, nobody's id
    assert messages.provider_view(f"se {YTUNNUS[1]}", YTUNNUS[0], "sv") == "se en annan serviceproducent"


def test_intake_reasons_in_every_language_never_library_text():
    f = Finding("F001", Location("a.xlsx"), found="the zip archive is truncated or corrupt", params={"kind": "corrupt_zip"})
    assert messages.provider_figures(f, "fi")[1] == "zip-paketti on katkennut tai vioittunut"
    assert messages.provider_figures(f, "sv")[1] == "zip-paketet är avbrutet eller skadat"
    assert messages.provider_figures(f, "en")[1] == "the zip archive is truncated or corrupt"


def test_a_workbook_the_reader_cannot_open_is_f001_without_the_librarys_words():
    from reconcile.model import Invoice, Submission
    from reconcile.read import invoice

    inv = Invoice(Submission(Path("a.xlsx"), "a.xlsx", "0" * 64, 1))

    def boom():
        raise RuntimeError("CalamineError: XlsxError: unexpected end of file")

    invoice._guard(inv, boom)
    [f] = inv.findings
    assert (f.rule, f.found, inv.fatal) == ("F001", "the workbook cannot be read", True)
    for lang in rules.LANGUAGES:
        assert "Calamine" not in messages.message(f, lang) and "Error" not in messages.message(f, lang)


def test_review_footer_in_each_language():
    assert messages.review_footer("2026-11", "ab12", "2", "fi") == "Erä (kuukausi) 2026-11 · Ajon tunniste ab12 · Sääntöjen versio 2"
    assert messages.review_footer("2026-11", "ab12", "2", "sv") == "Omgång (månad) 2026-11 · Körningens id ab12 · Reglernas version 2"
    assert messages.review_footer("2026-11", "ab12", "2", "en") == "Batch (month) 2026-11 · Run id ab12 · Rules version 2"
