"""The reader's quick paths read exactly what the full, cell-by-cell path reads.

`invoice.QUICK = False` reads every cell with the full readers of `cells`;
the quick readers (`cells.QUICK`, the Läsnäolo day codes) must give the same
frames and the same findings, in the same order. Likewise intake's batched
reading of cell references (`_XmlScan._fold`) must give what placing them one
at a time gives.
"""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import hostile
import wb
from reconcile.read import cells, intake, invoice
from reconcile import config, demo

ROOT = Path(__file__).resolve().parents[1]
CFG = config.load(ROOT / "config")


def read_both(paths: list[Path], monkeypatch) -> tuple[list, list]:
    subs = [intake.submission(p) for p in paths]
    quick = invoice.read_invoices(subs, CFG, workers=1)
    monkeypatch.setattr(invoice, "QUICK", False)
    full = invoice.read_invoices(subs, CFG, workers=1)
    monkeypatch.setattr(invoice, "QUICK", True)
    return quick, full


def assert_same(quick, full) -> None:
    assert len(quick) == len(full)
    for q, f in zip(quick, full):
        name = q.source_file
        assert q.findings == f.findings, name
        assert (q.fatal, q.header, q.sheet_names, q.columns, q.header_rows) == \
               (f.fatal, f.header, f.sheet_names, f.columns, f.header_rows), name
        for frame in ("clients", "attendance", "days", "guidance"):
            a, b = getattr(q, frame), getattr(f, frame)
            assert (a is None) == (b is None), (name, frame)
            if a is not None:
                assert a.schema == b.schema and a.equals(b), (name, frame)


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("speedpaths") / "inbox"
    demo.write_inbox(inbox, config_dir=ROOT / "config", providers=8, clients=90, batches="2026-10..2026-11",
                     seed=11, anomaly_rate=0.25)
    return inbox


def test_demo_batches_read_the_same_both_ways(demo_inbox, monkeypatch):
    paths = sorted(p for batch in ("2026-10", "2026-11") for p in (demo_inbox / batch).iterdir())
    quick, full = read_both(paths, monkeypatch)
    assert_same(quick, full)
    # The comparison has teeth: the batch holds planted mistakes, day findings and numbers as text.
    rules = {f.rule for inv in quick for f in inv.findings}
    assert {"V101", "V105"} <= rules
    assert sum(inv.days.height for inv in quick if inv.days is not None) > 1000


ODD_TEXTS = ["  Virtanen  Matti ", "Lind\u00a0Anna", "Ni\u200bemi", "#REF!", " #n/a ", "Åström Åsa", "", "   "]


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_odd_values_read_the_same_both_ways(tmp_path, engine, monkeypatch):
    header, clients, attendance = wb.sample_invoice()
    rows = [dict(clients[0]) for _ in range(len(ODD_TEXTS))]
    odd_money = [0.1 + 0.2, 2.675, 35.2, "12,50", " 1 234,50 € ", "-5,6", "1.234,50", 1e14]
    odd_hours = ["0,5", "4.333", 2.5, "-1", "#DIV/0!", 1 / 3, "", "24,00"]
    odd_dates = [dt.date(2026, 11, 3), "3.11.2026", "31.11.2026", "2026-11-03", 46330, "3. 11. 2026", "x", None]
    for i, row in enumerate(rows):
        row["decision_id"] = f"D-{i}" if i % 4 else ODD_TEXTS[i] or f"D-{i}"
        row["name"] = ODD_TEXTS[i]
        row["fee_cents"] = odd_money[i]
        row["travel_cents"] = odd_money[-1 - i]
        row["days_claimed"] = [3, 3.0, "3", "3,5", 24, -1, None, "kolme"][i]
        row["guidance_individual_h100"] = odd_hours[i]
        row["kykyviisari_date"] = odd_dates[i]
        row["hetu"] = [clients[0]["hetu"], clients[0]["hetu"].lower(), " " + clients[0]["hetu"], "123",
                       clients[0]["hetu"].replace("-", "\u2013"), None, clients[0]["hetu"], "#N/A"][i]
    days = ["X", "x", " X ", "S", "p", "L", "6", "4,5", 4.5, 25, "-2", "#REF!", "?", "Xx", 3.999, "\u00a0", 0]
    att = []
    for i, row in enumerate(rows):
        line = {"decision_id": row["decision_id"], "hetu": row["hetu"]}
        for day in range(1, 31):
            line[day] = days[(i * 7 + day) % len(days)]
        att.append(line)
    path = wb.write_invoice(tmp_path / "odd.xlsx", header, rows, att, engine=engine)
    quick, full = read_both([path], monkeypatch)
    assert_same(quick, full)
    rules = [f.rule for f in quick[0].findings]
    assert {"V101", "V103", "V104", "V105", "V107"} <= set(rules)


PLAIN_TEXT = st.text(alphabet=st.sampled_from(list("0123456789,.-+ €#xXsSaäÅ\u00a0\u200b\t")), max_size=8)
RAWS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**16, 10**16),
                 st.dates(), st.datetimes(), PLAIN_TEXT, st.booleans())


@settings(max_examples=600, deadline=None)
@given(kind=st.sampled_from(sorted(cells.QUICK)), raw=RAWS)
def test_a_quick_reader_answers_as_the_full_reader_or_not_at_all(kind, raw):
    quick = cells.QUICK[kind](raw)
    if quick is cells.SLOW:
        return
    assert quick == cells.read(kind, raw) and type(quick) is type(cells.read(kind, raw))


@settings(max_examples=300, deadline=None)
@given(raw=RAWS)
def test_quick_henkilotunnus_is_the_normalised_text(raw):
    quick = cells.quick_normal_hetu(raw)
    if quick is not cells.SLOW:
        text = cells.text(raw)
        assert quick == (cells.normal_hetu(text) if text is not None else None)


def sheet_part(cells_xml: str) -> bytes:
    return ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            f'<row r="1">{cells_xml}</row></sheetData></worksheet>').encode()


@pytest.mark.parametrize("cells_xml, expected", [
    ('<c r="B7"><v>1</v></c><c r="AA3"><v>2</v></c><c r="c9" t="inlineStr"><is><t>x</t></is></c>', (9, 27, True)),
    ('<c r="A1"><v>1</v></c><c r="XFE2"><v>2</v></c>', (1, 1, False)),  # beyond XFD
    ('<c r="A1 B2"><v>1</v></c><c r="C3"><v>2</v></c>', (3, 3, False)),  # a space inside one reference
    ('<c r=""><v>1</v></c><c r="D4"><v>2</v></c>', (4, 4, False)),
    ('<c s="1" r="E5"><v>1</v></c><c r="B2"><f>1+1</f></c>', (5, 5, True)),  # r not first; a formula alone
    ('<c r="Z9" s="1"/><c r="A2"><v>1</v></c>', (2, 1, True)),  # an empty styled cell does not count
])
def test_cell_references_batched_as_one_by_one(tmp_path, monkeypatch, cells_xml, expected):
    """The exact scan's references judged a chunk at a time (the short cut, which gives bounds, is off)."""
    monkeypatch.setattr(intake, "PLAIN_PART_BYTES", -1)
    header, clients, attendance = wb.sample_invoice()
    src = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)
    path = hostile.rewrite(src, tmp_path / "b.xlsx", {"xl/worksheets/sheet1.xml": sheet_part(cells_xml)})
    scan = intake.examine(intake.submission(path), CFG.limits).sheets["Lasku"]
    assert (scan.max_row, scan.max_col, scan.exact) == expected
