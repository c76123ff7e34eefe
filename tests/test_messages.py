"""Messages: every catalogued code speaks fi, sv and en, fills in its figures, and never fails."""

import datetime as dt

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
