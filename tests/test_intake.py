"""Intake: batch listing, hashing, and the F001/F002 safety checks on hostile files."""

import hashlib
import os
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from reconcile.read import intake
from reconcile.config import Limits
from reconcile.model import Submission
import hostile
from helpers import Unpacked
from wb import sample_invoice, write_invoice

MIB = 1024 * 1024
# The scan is bounded by the work it does, not by the clock (bench/bench_intake.py keeps the time,
# target 2.0 s a file): every hostile file is judged after unpacking at most 8 MiB (the largest,
# many_rows, stops at its 20,000th row near 6 MiB), a bomb after at most one chunk.
UNPACKED_LIMIT_BYTES = 8 * MIB
MEMORY_LIMIT_BYTES = 200 * MIB


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    return hostile.write_all(tmp_path_factory.mktemp("batch"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def inspect_measured(monkeypatch):
    """inspect() with the bytes it unpacked and its peak Python memory, asserting the file is left as it was."""

    def measured(path: Path, limits: Limits = Limits()):
        before = (sha(path), path.stat().st_mtime_ns)
        sub = intake.submission(path)
        unpacked = Unpacked(monkeypatch)
        tracemalloc.start()
        try:
            finding = intake.inspect(sub, limits)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (sha(path), path.stat().st_mtime_ns) == before
        return finding, unpacked.bytes, peak

    return measured


@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.name)
def test_hostile_file_gets_its_finding_in_bounded_work_and_memory(hostile_files, case, inspect_measured):
    path = hostile_files[case.name]
    finding, unpacked, peak = inspect_measured(path)
    assert unpacked <= (intake.CHUNK if case.name.endswith("bomb") else UNPACKED_LIMIT_BYTES), \
        f"{case.name}: {unpacked / MIB:.1f} MiB unpacked"
    assert peak < MEMORY_LIMIT_BYTES, f"{case.name}: {peak / MIB:.0f} MiB"
    if case.rule is None:
        assert finding is None, finding
        return
    assert (finding.rule, finding.params["kind"]) == (case.rule, case.kind)
    assert finding.location.source_file == path.name
    assert (finding.location.sheet, finding.location.cell) == (None, None)
    assert finding.found == finding.params["reason"] and finding.found
    assert (finding.severity, finding.effect) == ("error", "reject")


def test_messages_name_the_reason_and_the_figures(hostile_files):
    def found(name: str) -> str:
        return intake.inspect(intake.submission(hostile_files[name]), Limits()).found

    bomb = hostile_files["zip_bomb"]
    unpacked = sum(m.file_size for m in zipfile.ZipFile(bomb).infolist())
    assert found("zip_bomb") == f"the parts unpack to {-(-unpacked // MIB)} MiB; the limit is 50 MiB"
    assert unpacked > 200 * MIB
    parts = len(zipfile.ZipFile(hostile_files["too_many_parts"]).infolist())
    assert found("too_many_parts") == f"the archive holds {parts} parts; the limit is 10000"
    assert re.fullmatch(r"part xl/media/image1\.png unpacks (\d+) times its packed size; the limit is 100", found("ratio_bomb"))
    assert found("many_rows") == (
        "sheet part xl/worksheets/sheet1.xml holds values on more than 20000 rows; the limit is 20000")
    assert found("deep_nesting") == "part xl/worksheets/sheet1.xml nests elements more than 64 deep"
    assert found("billion_laughs") == "part xl/sharedStrings.xml declares a DOCTYPE (entities are not allowed)"
    assert found("xlsm_macros") == "the workbook holds macros (part xl/vbaProject.bin)"
    assert found("encrypted_cfb") == "the workbook is password-protected (encrypted)"
    assert found("xls_renamed") == "the file is an .xls file (Excel 97-2003 format), not .xlsx"
    assert found("invalid_utf8").startswith("part xl/worksheets/sheet1.xml is not valid UTF-8 (byte 0xe9 at offset ")


def test_every_kind_is_produced_and_every_produced_kind_is_declared():
    produced = {(c.rule, c.kind) for c in hostile.CASES if c.rule}
    produced |= {("F001", "unreadable"), ("F002", "file_size")}  # tested below with their own inputs
    declared = {(rule, kind) for rule, kinds in intake.KINDS.items() for kind in kinds}
    assert produced == declared


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_valid_invoices_pass(tmp_path, engine, inspect_measured):
    header, clients, attendance = sample_invoice()
    path = write_invoice(tmp_path / f"{engine}.xlsx", header, clients, attendance, engine=engine)
    finding, _, _ = inspect_measured(path)
    assert finding is None


def sheet_of_rows(n: int, cell: str) -> bytes:
    body = "".join(f'<row r="{r}">{cell.format(r=r)}</row>' for r in range(1, n + 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{hostile.MAIN_NS}">'
            f"<sheetData>{body}</sheetData></worksheet>").encode()


@pytest.mark.parametrize(
    "rows, cell, refused",
    [
        (50, '<c r="A{r}"><v>1</v></c>', False),  # exactly the limit
        (51, '<c r="A{r}"><v>1</v></c>', True),
        (51, '<c r="A{r}" t="inlineStr"><is><t>x</t></is></c>', True),
        (51, '<c r="A{r}" s="1"/>', False),  # styled but empty cells hold no values
        (51, '<c r="A{r}"><f>1+1</f></c>', False),  # a formula without a cached value is empty
        (51, '<c r="A{r}"/><c r="B{r}"><v>1</v></c><c r="C{r}"><v>2</v></c>', True),
    ],
)
def test_rows_holding_values_are_counted_not_declared(tmp_path, rows, cell, refused):
    base = hostile.base_workbook(tmp_path / "base.xlsx")
    path = hostile.rewrite(base, tmp_path / "rows.xlsx", {hostile.SHEET: sheet_of_rows(rows, cell)})
    finding = intake.inspect(intake.submission(path), Limits(max_rows=50))
    assert (finding.params["kind"] if finding else None) == ("rows" if refused else None)


def test_prefixed_worksheet_elements_count_the_same(tmp_path):
    body = "".join(f'<x:row r="{r}"><x:c r="A{r}"><x:v>1</x:v></x:c></x:row>' for r in range(1, 12))
    sheet = f'<x:worksheet xmlns:x="{hostile.MAIN_NS}"><x:sheetData>{body}</x:sheetData></x:worksheet>'.encode()
    base = hostile.base_workbook(tmp_path / "base.xlsx")
    path = hostile.rewrite(base, tmp_path / "prefixed.xlsx", {hostile.SHEET: sheet})
    assert intake.inspect(intake.submission(path), Limits(max_rows=11)) is None
    assert intake.inspect(intake.submission(path), Limits(max_rows=10)).params["kind"] == "rows"


@pytest.mark.parametrize("depth, refused", [(62, False), (63, True)])
def test_depth_limit(tmp_path, depth, refused):
    # worksheet and sheetData are two levels above the nested elements
    base = hostile.base_workbook(tmp_path / "base.xlsx")
    path = hostile.rewrite(base, tmp_path / "deep.xlsx", {hostile.SHEET: hostile.nested(depth)})
    finding = intake.inspect(intake.submission(path), Limits(max_xml_depth=64))
    assert (finding.params["kind"] if finding else None) == ("depth" if refused else None)


def test_file_bigger_than_the_limit(tmp_path, inspect_measured):
    base = hostile.base_workbook(tmp_path / "base.xlsx")
    noise = os.urandom(2 * MIB)
    path = hostile.rewrite(base, tmp_path / "big.xlsx", {"xl/media/image1.png": noise}, zipfile.ZIP_STORED)
    size = path.stat().st_size
    finding, _, _ = inspect_measured(path, Limits(max_uncompressed_mib=1))
    assert finding.rule == "F002"
    assert finding.params == {"kind": "file_size", "reason": f"the file is {-(-size // MIB)} MiB; the limit is 1 MiB",
                              "size_mib": -(-size // MIB), "limit_mib": 1}
    assert inspect_measured(path, Limits(max_uncompressed_mib=3))[0] is None


def test_parts_unpacking_over_the_limit_are_stopped_by_their_real_bytes(tmp_path, inspect_measured):
    """A part whose header understates its size is read no further than it declares."""
    base = hostile.base_workbook(tmp_path / "base.xlsx")
    path = hostile.zeros_part(tmp_path / "liar.xlsx", base, "xl/media/image1.png", 60 * MIB)
    hostile.lie_about_size(path, "xl/media/image1.png", 2 * MIB)
    finding, unpacked, peak = inspect_measured(path)
    assert (finding.rule, finding.params["kind"]) == ("F001", "corrupt_zip")
    assert "xl/media/image1.png" in finding.found
    assert unpacked <= 2 * MIB + intake.CHUNK and peak < 20 * MIB  # not the 60 MiB it holds


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), lambda p: None], ids=["directory", "vanished"])
def test_unreadable_file(tmp_path, make):
    path = tmp_path / "gone.xlsx"
    make(path)
    finding = intake.inspect(Submission(path=path, source_file=path.name, sha256="", size=0), Limits())
    assert (finding.rule, finding.params["kind"]) == ("F001", "unreadable")
    assert finding.found == "the file cannot be read"  # never the system's own words


def test_list_batch_sorts_submissions_and_ignores_lock_files(tmp_path):
    names = ["b.xlsx", ".hidden.xlsx", "a b; c.xlsx", "Äiti.xlsx", "lasku", "~$b.xlsx", ".~lock.b.xlsx#"]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(f"content {i}".encode())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.xlsx").write_bytes(b"x")
    os.mkfifo(tmp_path / "pipe.xlsx")  # would block a reader: not a regular file

    submissions, ignored = intake.list_batch(tmp_path)

    assert [s.source_file for s in submissions] == [".hidden.xlsx", "a b; c.xlsx", "b.xlsx", "lasku", "Äiti.xlsx"]
    assert ignored == [".~lock.b.xlsx#", "~$b.xlsx"]
    for s in submissions:
        data = (tmp_path / s.source_file).read_bytes()
        assert (s.path, s.sha256, s.size) == (tmp_path / s.source_file, hashlib.sha256(data).hexdigest(), len(data))


def test_submission_hash_of_a_file_bigger_than_one_chunk(tmp_path):
    data = os.urandom(3 * MIB + 17)
    path = tmp_path / "x.xlsx"
    path.write_bytes(data)
    sub = intake.submission(path)
    assert (sub.sha256, sub.size, sub.source_file) == (hashlib.sha256(data).hexdigest(), len(data), "x.xlsx")
