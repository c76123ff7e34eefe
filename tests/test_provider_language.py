"""Everything a provider receives is in its own language (issue 15, item 4).

A demo inbox with mistakes of every kind is run as a batch; every text the
program writes for a provider (the anomalies table, the cell comments and the
review sheet of the annotated copy, the `reconcile check` report) is scanned
for words of the other two languages and for a library's own exception text.
The demo's providers write Finnish, Swedish and English (register `Kieli`);
the test first makes sure each language occurs, so it cannot pass vacuously.

What the provider itself typed (a V rule's `found`, its client names, its own
file and sheet names) is left out of the scan: it is the provider's, not ours.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from reconcile import batch as batch_mod, config, demo
from reconcile.cli import main

ROOT = Path(__file__).resolve().parents[1]

# Words only one of the languages uses, as the program writes them (checked both ways below).
WORDS = {
    "fi": {"ei", "tai", "että", "päivä", "päivää", "välilehti", "välilehdellä", "välilehdeltä", "henkilötunnus",
           "päätös", "päätöksen", "laskun", "korjaa", "tarkista", "virhe", "virhettä", "varoitus", "hylätään",
           "pidätetään", "puuttuu", "tiedosto", "tiedostoa", "työttömyysetuus", "toimeentulotuki", "kuntoutustuki",
           "eläke", "sunnuntai", "laskutettu", "hyväksytty", "pidätetty", "hylätty", "tila", "havainto", "sääntö",
           "solu", "odotettu", "löytyi", "läsnäolopäivät", "asiakkaat", "läsnäolo", "yhteensä", "tuottaja",
           "korvaus", "kuukautta", "miten", "korjata"},
    "sv": {"och", "inte", "är", "för", "bladet", "beslutet", "fakturan", "saknas", "avvisas", "innehålls",
           "personbeteckning", "personbeteckningen", "rätta", "fel", "varning", "godkänt", "fakturerat",
           "innehållet", "avvisat", "klienter", "närvaro", "handledning", "måltider", "dagen", "cellen", "skicka",
           "kontrollera", "inga", "som", "att", "med", "på", "anmärkningar", "regel", "allvarlighet"},
    "en": {"the", "and", "is", "are", "not", "of", "sheet", "decision", "invoice", "missing", "rejected", "held",
           "please", "cannot", "expected", "found", "error", "warning", "claimed", "approved", "day", "days", "paid",
           "with", "from", "provider", "another", "sunday", "benefit", "hours", "rule", "severity", "how", "fix"},
}
LIBRARY_TEXT = re.compile(r"\b\w*(?:Error|Exception)\b|Traceback|[Zz]ip file|BadZip|\[Errno|calamine|expat|"
                          r"not well-formed \(|invalid token")
TOKEN = re.compile(r"[^\W\d_]+")


def foreign(text: str, lang: str) -> set[str]:
    """Words of the other languages in `text`."""
    others = set().union(*(w for k, w in WORDS.items() if k != lang))
    return {t for t in TOKEN.findall(text.casefold())} & others


def test_the_word_lists_tell_the_languages_apart():
    for lang, words in WORDS.items():
        for other, theirs in WORDS.items():
            if other != lang:
                assert not words & theirs, (lang, other, words & theirs)
    assert foreign("Bladet Klienter saknar en kolumn", "sv") == set()
    assert foreign("Bladet Klienter saknar: Läsnäolopäivät", "sv") == {"läsnäolopäivät"}
    assert LIBRARY_TEXT.search("the zip archive is truncated (File is not a zip file)")
    assert LIBRARY_TEXT.search("CalamineError: cannot read")
    assert not LIBRARY_TEXT.search("zip-paketti on katkennut tai vioittunut")


def anomaly_texts(path: Path) -> list[str]:
    """Every text the program wrote into an anomalies.xlsx, without what the provider typed."""
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    out = [" ".join(str(v) for v in rows[0] if v)]
    for r in rows[1:]:
        rule = r[0] or ""
        keep = [r[1], r[6], r[7], r[10], r[11]]  # severity, date, expected, message, how to fix
        if not str(rule).startswith(("V", "F")):  # a V or F rule's `found` is what the provider typed or named
            keep.append(r[8])
        out.append(" ".join(str(v) for v in keep if v))
    return out


def annotated_texts(path: Path, lang: str) -> list[str]:
    """The review sheet, the cell comments and the added status column of an annotated copy."""
    wb = openpyxl.load_workbook(path)
    out = [" ".join(str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row
                    if isinstance(v, str))]
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None:
                    out.append(c.comment.text)
    return out


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("languages")
    cfg = config.load(ROOT / "config")
    inbox, outbox = tmp / "inbox", tmp / "outbox"
    demo.write_inbox(inbox, config_dir=ROOT / "config", providers=6, clients=60, batches="2026-10..2026-11",
                     seed=7, anomaly_rate=0.2)
    for batch in ("2026-10", "2026-11"):
        batch_mod.run_batch(inbox, outbox, cfg, batch, str(tmp / "ledger.sqlite"))
    providers = pl.read_excel(inbox / "register" / "providers.xlsx")
    langs = dict(zip(providers["Y-tunnus"], providers["Kieli"]))
    return inbox, outbox, langs, tmp


@pytest.mark.slow
def test_every_provider_output_is_in_the_providers_language(demo_run):
    inbox, outbox, langs, _ = demo_run
    assert set(langs.values()) == {"fi", "sv", "en"}  # every language occurs among the demo's providers
    scanned: dict[str, int] = {"fi": 0, "sv": 0, "en": 0}
    problems = []
    for batch in ("2026-10", "2026-11"):
        for path in sorted((outbox / batch).glob("providers/*/**/*.xlsx")) + sorted((outbox / batch).glob("rejected/**/*.xlsx")):
            parts = path.relative_to(outbox / batch).parts
            lang = langs.get(parts[1], "fi") if parts[0] == "providers" else "fi"  # unknown provider: Finnish
            texts = anomaly_texts(path) if path.name == "anomalies.xlsx" else annotated_texts(path, lang)
            for text in texts:
                scanned[lang] += 1
                if foreign(text, lang) or LIBRARY_TEXT.search(text):
                    problems.append((lang, "/".join(parts), sorted(foreign(text, lang)), text))
    assert all(n >= 5 for n in scanned.values()), scanned
    assert problems == []


@pytest.mark.slow
def test_check_prints_everything_in_the_providers_language(demo_run):
    inbox, outbox, langs, tmp = demo_run
    with (outbox / "2026-11" / "finance" / "approval.csv").open(encoding="utf-8") as f:
        provider_of = {r["source_file"]: r["provider_id"] for r in csv.DictReader(f)}
    seen = {"fi": 0, "sv": 0, "en": 0}
    problems = []
    for path in sorted((inbox / "2026-11").iterdir()):
        r = CliRunner().invoke(main, ["check", "--config", str(ROOT / "config"), "--inbox", str(inbox),
                                      "--outbox", str(tmp / "none"), str(path)])
        assert r.exit_code in (0, 1, 3), r.output
        lang = langs.get(provider_of.get(path.name), "fi")  # an unknown provider reads Finnish
        seen[lang] += 1
        for line in r.stdout.splitlines():
            text = line.replace(path.name, "")
            words = foreign(text, lang)
            if words or LIBRARY_TEXT.search(text):
                problems.append((lang, path.name, sorted(words), line))
        fix_label = {"fi": "Miten korjata:", "sv": "Hur rätta:", "en": "How to fix:"}[lang]
        if r.exit_code:
            assert fix_label in r.stdout, (path.name, r.stdout)  # how to fix, for every error
    assert all(seen.values()), seen
    assert problems == []
