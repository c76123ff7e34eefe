"""The corpus of tests/corpus.py read and annotated end to end (issue 16).

Each workbook shape real programs write is read (the same invoice as the
plain one, no F001) and put through `reconcile run` beside a control invoice;
every one is approved at 263.60 with exactly its two findings (R208 at
Asiakkaat!D2, R210 at Asiakkaat!F2, worked out by hand in corpus.py), and
gets an annotated copy that passes the package check, opens in openpyxl and
LibreOffice, is marked where the findings are, and keeps every part of its
source.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import corpus
import openpyxl
import pytest
from reliability import BATCH, Control, provider_id

from reconcile import config
from reconcile.read import intake
from reconcile.read.invoice import read_invoice
from reconcile.write.xlsxutil import package_problems

ROOT = Path(__file__).resolve().parents[1]
CFG = config.load(ROOT / "config")


def _read(path: Path):
    return read_invoice(intake.submission(path), CFG)


def _essence(inv):
    """What a reading gives that the checks use: the header, the clients' key columns, the day cells."""
    keep = ["row", "decision_id", "hetu", "days_claimed", "day_value_cents", "fee_cents", "meals", "total_cents"]
    days = inv.days.select(sorted(inv.days.columns)).sort(inv.days.columns[:3]) if inv.days is not None else None
    return inv.header, inv.clients.select(keep).to_dicts(), days.to_dicts() if days is not None else None


@pytest.mark.parametrize("kind", [k for k in corpus.KINDS if k != "libreoffice"])
def test_each_shape_reads_as_the_plain_invoice(tmp_path, kind):
    ctl = Control(tmp_path / "inbox", providers=2)
    plain = corpus.invoice(ctl, 1, tmp_path / "plain.xlsx")
    shaped = corpus.KINDS[kind](ctl, 1, tmp_path / "shaped.xlsx")
    inv = _read(shaped)
    assert inv.findings == [] and not inv.fatal
    assert _essence(inv) == _essence(_read(plain))


@pytest.mark.parametrize("kind", [k for k in corpus.KINDS if k != "libreoffice"])
def test_each_shape_is_patched_part_by_part(tmp_path, kind):
    """No shape of the corpus needs the openpyxl fallback, which loses pictures, drawings and buttons."""
    import datetime as dt

    from reconcile.write.xlsxpatch import Columns, Note, Plan, patch

    ctl = Control(tmp_path / "inbox", providers=2)
    shaped = corpus.KINDS[kind](ctl, 1, tmp_path / "shaped.xlsx")
    plan = Plan(review_name="Tarkastus", review_cells={(1, 1): ("Tarkastus", "bold")})
    plan.marks = {"Asiakkaat": {"D2": Note("FFEB9C", "R208", 200, 100), "A1": Note("BDD7EE", "R219", 200, 100)}}
    plan.columns = Columns("Asiakkaat", 1, [("Hyväksytty €", "bold")], {2: [(113.6, "euro")], 3: [(150, "euro")]}, [14])
    patch(shaped, tmp_path / "copy.xlsx", plan, dt.datetime(2026, 11, 1))  # raises Unsupported when it cannot
    assert package_problems(tmp_path / "copy.xlsx") == []
    ws = openpyxl.load_workbook(tmp_path / "copy.xlsx")["Asiakkaat"]
    assert ws["D2"].comment.text.endswith("R208") and ws["A1"].comment.text.endswith("R219")
    assert [c.value for c in ws[1] if c.value is not None][-1] == "Hyväksytty €"


def test_a_note_on_a_threaded_comment_is_a_reply_in_its_thread(tmp_path):
    import datetime as dt

    from reconcile.write.xlsxpatch import Note, Plan, patch

    ctl = Control(tmp_path / "inbox", providers=2)
    shaped = corpus.threaded_comments(ctl, 1, tmp_path / "threaded.xlsx")
    plan = Plan(review_name="Tarkastus", review_cells={(1, 1): ("Tarkastus", "bold")})
    plan.marks = {"Asiakkaat": {"A1": Note("BDD7EE", "R219 & muuta", 200, 100), "D2": Note("FFEB9C", "R208", 200, 100)}}
    patch(shaped, tmp_path / "copy.xlsx", plan, dt.datetime(2026, 11, 1))
    assert package_problems(tmp_path / "copy.xlsx") == []
    parts = corpus.parts(tmp_path / "copy.xlsx")
    thread = parts["xl/threadedComments/threadedComment1.xml"].decode()
    # A1 holds the thread: our note is its reply; D2 has a legacy comment only, so no reply there.
    assert thread.count("<threadedComment ") == 2 and f'parentId="{corpus.THREAD_ID}"' in thread
    assert '<text>R219 &amp; muuta</text>' in thread and 'ref="D2"' not in thread
    people = parts["xl/persons/person.xml"].decode()
    assert 'displayName="Tuottaja"' in people and 'displayName="reconcile"' in people
    reply_person = re.search(r'parentId="[^"]+"', thread) and re.findall(r'personId="([^"]+)"', thread)[-1]
    assert f'id="{reply_person}"' in people
    ws = openpyxl.load_workbook(tmp_path / "copy.xlsx")["Asiakkaat"]
    assert ws["A1"].comment.text == "Päätösnumero kaupungin kirjeestä\n\nR219 & muuta"


def test_a_workbook_neither_reader_can_read_is_f001_in_plain_words(tmp_path):
    from reconcile.text import messages

    ctl = Control(tmp_path / "inbox", providers=2)
    path = corpus.invoice(ctl, 1, tmp_path / "dangling.xlsx")
    corpus.edit(path, {"xl/workbook.xml": lambda x: x.replace('r:id="rId2"', 'r:id="rId99"')})  # no such sheet part
    inv = _read(path)
    assert [(f.rule, f.params.get("kind")) for f in inv.findings] == [("F001", "unreadable")] and inv.fatal
    assert messages.message(inv.findings[0], "fi") == (
        "Tiedostoa dangling.xlsx ei voi lukea Excel-työkirjana (.xlsx): tiedostoa ei voitu lukea.")
    english = messages.message(inv.findings[0], "en")
    assert "neither spreadsheet reader could read" in english and "Error" not in english


# --- end to end ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    inbox, outbox = root / "inbox", root / "outbox"
    folder = inbox / BATCH
    folder.mkdir(parents=True)
    ctl = Control(inbox, providers=len(corpus.KINDS) + 1)
    ctl.write(0, "C-0", folder / "control.xlsx")
    made = corpus.build(folder, ctl)
    sources = {name: corpus.parts(folder / name) for name in made}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "reconcile", "run", "--inbox", str(inbox), "--outbox", str(outbox),
                           "--config", str(ROOT / "config"), "--quiet"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    return {"proc": proc, "out": outbox / BATCH, "made": made, "sources": sources, "root": root}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _copy(run, name: str) -> Path:
    k, _ = run["made"][name]
    return run["out"] / "providers" / provider_id(k) / f"K-{k}" / "annotated.xlsx"


@pytest.mark.slow
def test_every_shape_is_checked_as_the_plain_invoice(run):
    assert run["proc"].returncode == 0, run["proc"].stderr
    approval = {r["source_file"]: (r["status"], r["approved_eur"]) for r in _csv(run["out"] / "finance" / "approval.csv")}
    found: dict[str, list] = {}
    for r in _csv(run["out"] / "audit" / "findings.csv"):
        found.setdefault(r["source_file"], []).append((r["rule"], r["cell"]))
    for name in run["made"]:
        assert approval[name] == ("approved", "263.60"), name
        assert sorted(found[name]) == [("R208", "Asiakkaat!D2"), ("R210", "Asiakkaat!F2")], name
    assert approval["control.xlsx"] == ("approved", "263.60") and "control.xlsx" not in found


@pytest.mark.slow
def test_every_copy_is_valid_marked_and_has_its_columns(run):
    for name in run["made"]:
        copy = _copy(run, name)
        assert copy.is_file(), name
        assert package_problems(copy) == [], name
        book = openpyxl.load_workbook(copy)
        assert book.sheetnames[0] == "Tarkastus", name
        ws = book["Asiakkaat"]
        assert ws["D2"].fill.start_color.rgb[-6:] == "FFEB9C" and "R208" in ws["D2"].comment.text, name
        assert "R210" in ws["F2"].comment.text, name
        heads = [c.value for c in ws[1] if c.value is not None]
        assert heads[-2:] == ["Hyväksytty €", "Tila"], name


@pytest.mark.slow
def test_every_copy_keeps_every_part_of_its_source(run):
    for name in run["made"]:
        with zipfile.ZipFile(_copy(run, name)) as z:
            kept = set(z.namelist())
        lost = sorted(set(run["sources"][name]) - kept)
        assert lost == [], name


@pytest.mark.slow
def test_what_the_provider_put_in_is_still_there(run):
    src, copy = run["sources"], {name: corpus.parts(_copy(run, name)) for name in run["made"]}
    for name, part in (("threaded comments.xlsx", "xl/threadedComments/threadedComment1.xml"),
                       ("threaded comments.xlsx", "xl/persons/person.xml"),
                       ("header picture.xlsx", "xl/media/logo1.png"),
                       ("header picture.xlsx", "xl/drawings/vmlDrawingHF1.vml"),
                       ("picture in sheet.xlsx", "xl/media/image1.png")):
        assert copy[name][part] == src[name][part], (name, part)
    book = openpyxl.load_workbook(_copy(run, "legacy comments.xlsx"))
    assert book["Asiakkaat"]["A1"].comment.text == "Päätösnumero kaupungin kirjeestä"
    assert book["Asiakkaat"]["D2"].comment.text.startswith("Yksi päivä puhelimitse\n\nR208 (virhe, korjataan)")
    button = copy["form button.xlsx"]
    vml = b"".join(data for part, data in button.items() if part.endswith(".vml"))
    assert b'ObjectType="Button"' in vml and vml.count(b'ObjectType="Note"') == 2
    sheet = copy["header picture.xlsx"][corpus.ASIAKKAAT].decode()
    assert "<legacyDrawingHF" in sheet and "&amp;G" in sheet
    formula = openpyxl.load_workbook(_copy(run, "shared formulas.xlsx"))["Asiakkaat"]
    assert (formula["L2"].value, formula["L3"].value) == ("=D2*2", "=D3*2")
    web = openpyxl.load_workbook(_copy(run, "web formula text.xlsx"))["Asiakkaat"]
    assert (web["L3"].value, web["L3"].data_type) == ("ohje", "s")  # a formula reaching the web keeps its value


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_every_copy(run, tmp_path):
    from test_annotate_valid import libreoffice_opens

    copies = []
    for name in run["made"]:
        target = tmp_path / f"{run['made'][name][0]:02d}.xlsx"
        target.write_bytes(_copy(run, name).read_bytes())
        copies.append(target)
    first = libreoffice_opens(tmp_path, copies)
    assert all(line.startswith("Y-tunnus,") for line in first.values()), first


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_reads_our_comments_beside_the_providers(run, tmp_path):
    import shutil

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    names = {"legacy comments.xlsx": "comments.xlsx", "form button.xlsx": "button.xlsx"}
    for name, short in names.items():
        (tmp_path / short).write_bytes(_copy(run, name).read_bytes())
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path / "saved"), *(str(tmp_path / s) for s in names.values())],
                   check=True, timeout=300, capture_output=True)
    comments = openpyxl.load_workbook(tmp_path / "saved" / "comments.xlsx")["Asiakkaat"]
    assert comments["A1"].comment.text == "Päätösnumero kaupungin kirjeestä"
    assert comments["D2"].comment.text.startswith("Yksi päivä puhelimitse\n\nR208 (virhe, korjataan)")
    button = openpyxl.load_workbook(tmp_path / "saved" / "button.xlsx")["Asiakkaat"]
    assert button["D2"].comment.text.startswith("R208") and button["F2"].comment.text.startswith("R210")
