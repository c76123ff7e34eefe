"""Intake, the first stage: which files a batch holds, and whether each is safe to open.

    list_batch   the submissions of a batch folder, and the lock files it ignores
    submission   one file with its sha256, read as a stream
    inspect      F001 (not a readable .xlsx) or F002 (unsafe or too big), or None
    examine      the same, with what the scan saw that the reader needs (`Inspection`)

`inspect` runs before anything parses a workbook as a whole, on every file
of a batch, so it decides by content (never by the file's name) in bounded
time and memory: it reads the zip directory, then streams every part
through zlib in chunks and every XML part through expat, counting real
bytes, element depth and worksheet rows as it goes, and stops at the first
reason to refuse. Only a worksheet part of up to `PLAIN_PART_BYTES` is
held in memory whole, for the short cut below. The file is only ever
opened for reading.

The exact scan makes one Python call per XML element, which on a batch
costs more than reading the workbooks. So a worksheet is first tried by a
short cut (`_Plain`, `reconcile.sheetdata`): the inside of its
`<sheetData>`, nearly all of the part, is matched in one go against the
plain shape every spreadsheet program writes its rows in, and only the rest
of the part goes through the exact scan. What the short cut cannot vouch
for, or anything that would refuse the file, is scanned exactly from the
start of the part, in the part's turn, so the answer is always the exact
scan's (tests/test_intake_fast.py compares the two).

A finding's `params` carry `kind` (a stable word for the reason, listed in
`KINDS`), `reason` (an English sentence naming the figures, also in
`found`), and the figures themselves (`size_mib`, `limit_mib`, `part`, ...),
so the message templates can say what was wrong in any language.

While it streams the worksheets anyway, the scan notes what the fast reader
(`sheets.open_book`, python-calamine) cannot see or must not be given: the
cells holding error values (`#REF!`, with their cached text; calamine reads
them as empty strings) and the furthest row and column of any cell holding
something (calamine allocates the whole rectangle up to that cell, so one
value at XFD1048576 would need billions of cells). It also maps each sheet
name of the workbook part to its part through the workbook's relationships,
so the reader knows which part a sheet came from. The workbook part is the
one `_rels/.rels` names, as the OOXML standard finds it (`xl/workbook.xml`
in every program's files, but a valid package may name it otherwise). The
references of cells holding something are gathered while expat parses a
chunk and judged a chunk at a time by regular expressions (`_XmlScan._fold`);
a chunk holding any unusual reference is judged one reference at a time.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import os
import posixpath
import re
import string
import struct
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.parsers import expat

from reconcile.config import Limits
from reconcile.findings import Finding, Location
from reconcile.model import Submission

MIB = 1024 * 1024
CHUNK = 256 * 1024
# Parts smaller than this are not judged by their compression ratio: a short
# run of repeated text (a long cell of one letter) compresses far beyond any
# bomb threshold and is harmless. Apache POI allows the same grace.
RATIO_GRACE_BYTES = 1 * MIB

# Every `params["kind"]` a finding of intake can carry, by rule (the message
# templates may word each one; a test checks both ways that each is emitted).
KINDS = {
    "F001": (
        "unreadable", "empty", "xls", "encrypted", "ods", "html", "xml", "text", "binary",
        "corrupt_zip", "encrypted_zip", "compression", "no_content_types", "no_workbook",
        "invalid_utf8", "bad_xml",
    ),
    "F002": (
        "file_size", "uncompressed_size", "compression_ratio", "parts", "duplicate_part",
        "macros", "doctype", "depth", "rows",
    ),
}

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls, .doc, encrypted OOXML
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # the end-of-central-directory record; alone, an empty archive
ZIP64_LOCATOR = b"PK\x06\x07"
EOCD_SEARCH = 22 + 65535 + 20  # the end record, its longest comment, and the zip64 locator before it
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")  # a stream name in the CFB directory
ODF_MIMETYPE = b"application/vnd.oasis.opendocument"
CONTENT_TYPES = "[Content_Types].xml"
WORKBOOK = "xl/workbook.xml"  # where every program puts it; the package's own relationships may say otherwise
PACKAGE_RELS = "_rels/.rels"
OFFICE_DOCUMENT_REL = "/officeDocument"  # the end of the workbook relationship's Type (transitional or strict)
WORKSHEET_REL = "/worksheet"  # the end of a worksheet relationship's Type
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
MACRO_TYPES = ("macroenabled", "vbaproject", "vbadata", "ms-excel.intl.macrosheet", "ms-excel.macrosheet")
XML_EXTENSIONS = (".xml", ".rels")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


# Column letters -> column number, "A" -> 1 ... "XFD" -> 16384 (letters in Excel's order).
COLUMNS = {"".join(letters): n for n, letters in enumerate(
    itertools.islice(itertools.chain.from_iterable(
        itertools.product(string.ascii_uppercase, repeat=k) for k in (1, 2, 3)), 16384), start=1)}

# Cell references of a worksheet are gathered while expat parses a chunk, then judged together.
_REFS = re.compile(r"[A-Za-z]{1,3}[0-9]+(?: [A-Za-z]{1,3}[0-9]+)*")
_LETTERS = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class SheetScan:
    """What the scan saw in one worksheet part.

    No cell holding a value, an inline string or a formula lies beyond row
    `max_row` or column `max_col` (1-based), by the cell's own reference:
    the exact scan gives the furthest such cell, the short cut the bound it
    proved (a rectangle of `sheetdata.TIERS`). `exact` is False when
    a cell had no reference or an unreadable one, or the part is UTF-16
    (calamine reads every sheet as UTF-8), so that the reader does not
    rely on them. `errors` maps (row, column) of each cell of type
    error to its cached text (`#REF!`).
    """

    part: str
    max_row: int = 0
    max_col: int = 0
    exact: bool = True
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass
class Inspection:
    """What `examine` learnt of one file: a refusal, or what the reader needs.

    `sheets` maps each worksheet's name (from `xl/workbook.xml`) to the scan
    of its part; `mapped` is False when some worksheet could not be traced to
    a scanned part (the reader then takes its slower, self-sufficient path).
    """

    path: Path
    finding: Finding | None = None
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    mapped: bool = False


class _Refused(Exception):
    """Raised inside the scan at the first reason to refuse the file."""

    def __init__(self, rule: str, kind: str, reason: str, **figures: Any):
        super().__init__(reason)
        self.rule = rule
        self.kind = kind
        self.reason = reason
        self.figures = figures


def is_lock_file(name: str) -> bool:
    """Excel's `~$name.xlsx` and LibreOffice's `.~lock.name.xlsx#`."""
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


def list_batch(batch_dir: Path) -> tuple[list[Submission], list[str]]:
    """Every regular file of the folder (dot-files included), sorted by name; and the lock files ignored.

    Sub-folders, fifos, sockets and devices are not submissions. A symbolic
    link to a regular file is read as that file.
    """
    submissions: list[Submission] = []
    ignored: list[str] = []
    with os.scandir(batch_dir) as entries:
        names = sorted(e.name for e in entries if e.is_file())
    for name in names:
        if is_lock_file(name):
            ignored.append(name)
        else:
            submissions.append(submission(Path(batch_dir) / name))
    return submissions, ignored


def submission(path: Path) -> Submission:
    """The file with its sha256 and size, read as a stream."""
    path = Path(path)
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            digest.update(chunk)
            size += len(chunk)
    return Submission(path=path, source_file=path.name, sha256=digest.hexdigest(), size=size)


def inspect(sub: Submission, limits: Limits) -> Finding | None:
    """F001 or F002 when the file must not be opened as a workbook; None when it is safe to open."""
    return examine(sub, limits).finding


def examine(sub: Submission, limits: Limits) -> Inspection:
    """`inspect`'s answer, and for a file safe to open what its scan saw of the worksheets."""
    out = Inspection(sub.path)
    try:
        out.sheets, out.mapped = _check(sub.path, limits)
        return out
    except _Refused as r:
        params = {"kind": r.kind, "reason": r.reason, **r.figures}
        out.finding = Finding(r.rule, Location(source_file=sub.source_file), params=params, found=r.reason)
    except OSError as e:
        reason = "the file cannot be read"  # never the system's or a library's own words (issue 15)
        out.finding = Finding("F001", Location(source_file=sub.source_file), params={"kind": "unreadable", "reason": reason}, found=reason)
    except Exception as e:  # zipfile and zlib raise many kinds on damaged input (struct.error, ValueError, ...)
        reason = "the zip archive is truncated or corrupt"
        out.finding = Finding("F001", Location(source_file=sub.source_file), params={"kind": "corrupt_zip", "reason": reason}, found=reason)
    return out


def _check(path: Path, limits: Limits) -> tuple[dict[str, SheetScan], bool]:
    size = path.stat().st_size
    if size == 0:
        raise _Refused("F001", "empty", "the file is empty (0 bytes)")
    with path.open("rb") as f:
        head = f.read(512)
    if not head.startswith(ZIP_MAGIC):
        _not_a_zip(path, head, limits)
    limit = limits.max_uncompressed_mib * MIB
    if size > limit:
        raise _Refused(
            "F002", "file_size",
            f"the file is {_mib(size)} MiB; the limit is {limits.max_uncompressed_mib} MiB",
            size_mib=_mib(size), limit_mib=limits.max_uncompressed_mib,
        )
    _check_part_count(path, size, limits)
    try:
        archive = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as e:
        raise _Refused("F001", "corrupt_zip", "the zip archive is truncated or corrupt") from None
    with archive:
        members = archive.infolist()
        _check_odf(archive, members)
        _check_directory(members, limits)
        return _scan_parts(archive, members, limits)


def _not_a_zip(path: Path, head: bytes, limits: Limits) -> None:
    """Name what the file is instead of an .xlsx, and refuse it (F001)."""
    if head.startswith(CFB_MAGIC):
        if _holds(path, ENCRYPTION_INFO, limits.max_uncompressed_mib * MIB):
            raise _Refused("F001", "encrypted", "the workbook is password-protected (encrypted)")
        raise _Refused("F001", "xls", "the file is an .xls file (Excel 97-2003 format), not .xlsx")
    if head.startswith(EMPTY_ZIP_MAGIC):
        raise _Refused("F001", "no_content_types", "the zip archive is empty")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<html" in text or text.startswith(b"<!doctype html"):
        raise _Refused("F001", "html", "the file is an HTML page, not .xlsx")
    if text.startswith(b"<"):
        raise _Refused("F001", "xml", "the file is an XML document (not a zip archive), not .xlsx")
    if _looks_like_text(head):
        raise _Refused("F001", "text", "the file is text (CSV or plain text), not .xlsx")
    raise _Refused("F001", "binary", f"the file is not a zip archive (it begins with bytes {head[:4].hex(' ')})")


def _mib(size: int) -> int:
    """Whole MiB, rounded up, so a size over the limit never prints as the limit."""
    return -(-size // MIB)


def _looks_like_text(head: bytes) -> bool:
    for encoding in ("utf-8", "cp1252"):
        try:
            # A multi-byte character may be cut at the end of the sample.
            text = codecs.getincrementaldecoder(encoding)().decode(head)
        except UnicodeDecodeError:
            continue
        return all(c.isprintable() or c in "\t\r\n" for c in text.lstrip("\ufeff"))
    return False


def _holds(path: Path, needle: bytes, max_bytes: int) -> bool:
    """Whether the first `max_bytes` of the file hold `needle`, read in chunks."""
    tail = b""
    read = 0
    with path.open("rb") as f:
        while read < max_bytes and (chunk := f.read(CHUNK)):
            read += len(chunk)
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle):]
    return False


def _check_part_count(path: Path, size: int, limits: Limits) -> None:
    """Refuse too many parts from the end-of-directory record, before the directory is read (F002)."""
    with path.open("rb") as f:
        tail_at = max(0, size - EOCD_SEARCH)
        f.seek(tail_at)
        tail = f.read()
        at = tail.rfind(EMPTY_ZIP_MAGIC)
        if at < 0 or at + 22 > len(tail):
            return  # no end record: zipfile says the archive is corrupt
        count = struct.unpack_from("<H", tail, at + 10)[0]
        locator = at - 20
        if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == ZIP64_LOCATOR:
            f.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
            record = f.read(56)
            if len(record) == 56:
                count = struct.unpack_from("<Q", record, 32)[0]
    _check_parts(count, limits)


def _check_parts(count: int, limits: Limits) -> None:
    if count > limits.max_parts:
        raise _Refused(
            "F002", "parts", f"the archive holds {count} parts; the limit is {limits.max_parts}",
            parts=count, limit=limits.max_parts,
        )


def _check_odf(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """An OpenDocument file is a zip whose `mimetype` part names an ODF type."""
    mimetype = next((m for m in members if m.filename == "mimetype"), None)
    if mimetype is None or mimetype.flag_bits & 0x1 or mimetype.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return  # refused below, from the directory
    with archive.open(mimetype) as f:
        if f.read(len(ODF_MIMETYPE)) == ODF_MIMETYPE:
            raise _Refused("F001", "ods", "the file is an OpenDocument spreadsheet (.ods), not .xlsx")


def _check_directory(members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """What the zip directory alone tells: format, macros, part count, declared sizes."""
    _check_parts(len(members), limits)
    names = [m.filename for m in members]
    if any(m.flag_bits & 0x1 for m in members):
        raise _Refused("F001", "encrypted_zip", "the zip archive is password-protected")
    for name in names:
        if "vbaproject" in name.lower():
            raise _Refused("F002", "macros", f"the workbook holds macros (part {name})", part=name)
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            raise _Refused("F002", "duplicate_part", f"the archive holds two parts named {name}", part=name)
        seen.add(name.lower())
    if CONTENT_TYPES not in names:
        raise _Refused("F001", "no_content_types", f"the zip archive has no {CONTENT_TYPES} part")
    if PACKAGE_RELS not in names and WORKBOOK not in names:  # with _rels/.rels: judged once it is scanned
        raise _Refused("F001", "no_workbook", f"the zip archive has no {WORKBOOK} part")
    for m in members:
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(
                "F001", "compression",
                f"part {m.filename} uses zip compression method {m.compress_type}, which Excel never writes",
                part=m.filename,
            )
    total = sum(m.file_size for m in members)
    _check_total(total, limits)
    for m in members:
        _check_ratio(m, m.file_size, limits)


def _check_total(total: int, limits: Limits) -> None:
    if total > limits.max_uncompressed_mib * MIB:
        raise _Refused(
            "F002", "uncompressed_size",
            f"the parts unpack to {_mib(total)} MiB; the limit is {limits.max_uncompressed_mib} MiB",
            size_mib=_mib(total), limit_mib=limits.max_uncompressed_mib,
        )


def _check_ratio(member: zipfile.ZipInfo, unpacked: int, limits: Limits) -> None:
    if unpacked <= RATIO_GRACE_BYTES:
        return
    ratio = unpacked // max(member.compress_size, 1)
    if ratio > limits.max_compression_ratio:
        raise _Refused(
            "F002", "compression_ratio",
            f"part {member.filename} unpacks {ratio} times its packed size; the limit is {limits.max_compression_ratio}",
            part=member.filename, ratio=ratio, limit=limits.max_compression_ratio,
        )


def _scan_parts(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                limits: Limits) -> tuple[dict[str, SheetScan], bool]:
    """Stream every part, [Content_Types].xml first, trusting no declared size.

    Returns the worksheets by sheet name, and whether every worksheet named
    in the workbook was traced to a scanned part. A worksheet of up to
    `PLAIN_PART_BYTES` is first tried by the short cut (`_Plain`); those it
    cannot vouch for are scanned exactly, in their order among the parts, so
    a file with several reasons to refuse it is refused for the same one.
    """
    members = sorted(members, key=lambda m: (m.filename != CONTENT_TYPES, m.filename != PACKAGE_RELS))
    names = {m.filename for m in members}
    worksheets: set[str] = set()
    scans: dict[str, _XmlScan] = {}
    pending: list[_Plain] = []
    total = 0
    workbook = WORKBOOK
    try:
        for member in members:
            name = member.filename
            if not name.lower().endswith(XML_EXTENSIONS):
                total = _stream(archive, member, limits, total, None)
                continue
            if name in (PACKAGE_RELS, workbook, _rels_of(workbook)):
                role = "workbook" if name == workbook else "rels"
                scan = _XmlScan(name, limits, worksheet=False, role=role)
                total = _stream(archive, member, limits, total, scan)
                scans[name] = scan
                if name == PACKAGE_RELS:
                    workbook = _workbook_part(scan) or WORKBOOK
                    if workbook not in names:
                        raise _Refused("F001", "no_workbook", f"the zip archive has no workbook part ({workbook})")
                continue
            worksheet = name in worksheets or name.startswith("xl/worksheets/")
            if worksheet and member.file_size <= PLAIN_PART_BYTES:
                plain = _Plain.read(archive, member, limits, total)
                if plain is not None:
                    pending.append(plain)
                    scans[name] = plain.scan
                    total = plain.total
                    continue
            scan = _XmlScan(name, limits, worksheet)
            total = _stream(archive, member, limits, total, scan)
            scans[name] = scan
            if name == CONTENT_TYPES:
                worksheets = scan.worksheets
                if scan.macro_part:
                    raise _Refused("F002", "macros", f"the workbook holds macros (content type of {scan.macro_part})",
                                   part=scan.macro_part)
    except Exception:
        _settle(archive, pending, scans, limits)  # a worksheet before this part may have its own reason to refuse
        raise
    _settle(archive, pending, scans, limits)
    return _sheet_parts(scans, workbook)


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _workbook_part(rels: "_XmlScan") -> str | None:
    """The workbook part named by the package's relationships (`_rels/.rels`), as the OOXML standard finds it."""
    for rel_type, target in rels.relationships.values():
        if rel_type.endswith(OFFICE_DOCUMENT_REL) and target:
            return posixpath.normpath(target.lstrip("/"))
    return None


def _stream(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: Limits, total: int,
            scan: "_XmlScan | None") -> int:
    """Unpack one part in chunks, judging sizes as they come, through `scan` if given; the new total."""
    name = member.filename
    unpacked = 0
    try:
        with archive.open(member) as part:
            while chunk := part.read(CHUNK):
                if unpacked == 0 and scan is not None and scan.sheet is not None and _utf16(chunk):
                    scan.sheet.exact = False  # calamine reads a sheet as UTF-8: it must not be given this one
                unpacked += len(chunk)
                total += len(chunk)
                _check_total(total, limits)
                _check_ratio(member, unpacked, limits)
                if scan is not None:
                    scan.parser.Parse(chunk, False)
                    scan.fold()
        if scan is not None:
            scan.parser.Parse(b"", True)
            scan.fold()
    except expat.ExpatError as e:
        _bad_xml(archive, member, e)
    except LookupError as e:  # expat asked Python for an encoding it does not know either
        raise _Refused("F001", "bad_xml", f"part {name} declares an unknown encoding", part=name) from None
    except zipfile.BadZipFile as e:
        raise _Refused("F001", "corrupt_zip", f"part {name} is corrupt or does not match its declared size", part=name) from None
    return total


# Worksheet parts up to this size are held whole for the short cut (a national decision register's
# sheet is some 25 MB); larger ones are scanned exactly, in chunks.
PLAIN_PART_BYTES = 32 * MIB
SHEET_DATA_OPEN, SHEET_DATA_CLOSE = b"<sheetData>", b"</sheetData>"


def _utf16(start: bytes) -> bool:
    """Whether a part begins as UTF-16 does: a byte-order mark, or a zero byte beside its first characters."""
    return start.startswith(UTF16_BOMS) or b"\x00" in start[:4]


_DECLARATION = re.compile(rb"<\?xml[ \t\r\n][^?]*\?>")  # its values (version, encoding, standalone) hold no ?
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)[\"']")


def _unusual_head(head: bytes) -> bool:
    """Whether the part before `<sheetData>` might hide that the tag found is not the element, or be in
    another encoding than UTF-8 (in which the rows are not what the grammar reads).

    Unusual: a comment, CDATA or a processing instruction other than the XML
    declaration; an encoding declared other than UTF-8; a zero byte or
    anything else that is not UTF-8 (a UTF-16 part spells its tags in two
    bytes each, so ASCII bytes that look like `<sheetData>` there are text).
    """
    body = head.removeprefix(codecs.BOM_UTF8)
    declaration = _DECLARATION.match(body)
    if declaration is not None:
        encoding = _ENCODING.search(declaration[0])
        if encoding is not None and encoding[1].lower() != b"utf-8":
            return True
        body = body[declaration.end():]
    if b"<?" in body or b"<!--" in body or b"<![CDATA[" in body or b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@dataclass
class _Plain:
    """A worksheet part read whole for the short cut, awaiting `sheetdata.plain`'s word on its rows.

    `scan` is the exact scan of the part with the inside of `<sheetData>`
    cut out (`inner`); `total` the bytes unpacked so far in the file, and
    `before` that figure before this part, for an exact scan from the start.
    """

    member: zipfile.ZipInfo
    scan: "_XmlScan"
    inner: bytes
    before: int
    total: int

    @classmethod
    def read(cls, archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: Limits, total: int) -> "_Plain | None":
        """The part if it is well-formed and its outside passes the exact scan; None for anything else.

        None is also the answer to anything that would refuse the file: the
        exact scan, run from the start of the part, then refuses it as it
        always has, at the same place and for the same reason.
        """
        from reconcile.read import sheetdata

        before = total
        chunks: list[bytes] = []
        try:
            with archive.open(member) as part:
                while chunk := part.read(CHUNK):
                    total += len(chunk)
                    _check_total(total, limits)
                    _check_ratio(member, total - before, limits)
                    if total - before > PLAIN_PART_BYTES:
                        return None
                    chunks.append(chunk)
        except (_Refused, zipfile.BadZipFile):
            return None
        data = b"".join(chunks)
        del chunks
        start, end = data.find(SHEET_DATA_OPEN), data.rfind(SHEET_DATA_CLOSE)
        if start < 0 or end < start or data.count(b"sheetData") != 2 or _unusual_head(data[:start]):
            return None
        start += len(SHEET_DATA_OPEN)
        outside = _XmlScan(member.filename, replace(limits, max_xml_depth=limits.max_xml_depth - sheetdata.DEPTH),
                           worksheet=True)
        try:
            outside.parser.Parse(data[:start] + data[end:], True)
            outside.fold()
        except (_Refused, expat.ExpatError, LookupError):
            return None
        if outside.cell is not None:
            return None  # a cell outside <sheetData>: the exact scan reads the part as one, cells carrying over
        inner = data[start:end]
        if outside.rows + inner.count(b"<row") > limits.max_rows:
            return None  # the exact scan counts the rows that hold values
        return cls(member, outside, inner, before, total)


def _settle(archive: zipfile.ZipFile, pending: list[_Plain], scans: dict[str, "_XmlScan"], limits: Limits) -> None:
    """Judge the worksheets the short cut holds; scan exactly, in order, those it cannot vouch for."""
    from reconcile.read import sheetdata

    for plain, bound in zip(pending, sheetdata.plain([p.inner for p in pending]) if pending else []):
        name = plain.member.filename
        if bound is not None:
            if plain.inner.strip():
                sheet = plain.scan.sheet
                sheet.max_row = max(sheet.max_row, bound[0])
                sheet.max_col = max(sheet.max_col, bound[1])
            continue
        scan = _XmlScan(name, limits, worksheet=True)
        _stream(archive, plain.member, limits, plain.before, scan)
        scans[name] = scan
    pending.clear()


def _sheet_parts(scans: dict[str, "_XmlScan"], workbook_part: str) -> tuple[dict[str, SheetScan], bool]:
    """Each worksheet name of the workbook with the scan of its part, as calamine finds them."""
    workbook, rels = scans.get(workbook_part), scans.get(_rels_of(workbook_part))
    if workbook is None or rels is None:
        return {}, False
    sheets: dict[str, SheetScan] = {}
    mapped = True
    for sheet_name, rel_id in workbook.sheet_rels:
        rel_type, target = rels.relationships.get(rel_id, ("", ""))
        if not rel_type.endswith(WORKSHEET_REL):
            continue  # a chart sheet or a dialog sheet: no reader reads it
        folder = posixpath.dirname(workbook_part)
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        scan = scans.get(part)
        if scan is None or scan.sheet is None or sheet_name in sheets:
            mapped = False
            continue
        sheets[sheet_name] = scan.sheet
    return sheets, mapped


def _bad_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo, error: expat.ExpatError) -> None:
    """Refuse a part expat could not parse, saying whether the cause is its UTF-8 (F001)."""
    name = member.filename
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with archive.open(member) as part:
        first = True
        while chunk := part.read(CHUNK):
            if first and chunk.startswith(UTF16_BOMS):
                break
            first = False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as u:
                at = offset + u.start
                raise _Refused(
                    "F001", "invalid_utf8",
                    f"part {name} is not valid UTF-8 (byte 0x{chunk[u.start]:02x} at offset {at})",
                    part=name, offset=at,
                ) from None
            offset += len(chunk)
    reason = f"part {name} is not well-formed XML (line {error.lineno}, column {error.offset})"
    raise _Refused("F001", "bad_xml", reason, part=name, line=error.lineno)


class _XmlScan:
    """One XML part through expat: no DOCTYPE or entities, bounded depth, rows with values counted.

    Element names are compared by local name, so a prefixed part (`x:row`)
    counts the same as an unprefixed one. A worksheet row counts when one of
    its cells holds a value (`<v>`) or an inline string (`<is>`); the
    declared `<dimension>` is not trusted. In `[Content_Types].xml` the scan
    also collects the worksheet parts and notes any macro content type; in a
    worksheet it fills a `SheetScan` (furthest cell, error cells); in the
    workbook and its relationships it collects the sheets and their parts.
    The handlers are kept lean: they run once per element of every part.
    """

    def __init__(self, name: str, limits: Limits, worksheet: bool, role: str | None = None):
        self.name = name
        self.max_depth = limits.max_xml_depth
        self.max_rows = limits.max_rows
        self.depth = 0
        self.rows = 0
        self.open_row = False  # inside a row whose values are not counted yet
        self.worksheets: set[str] = set()
        self.macro_part = ""
        self.sheet: SheetScan | None = None
        self.cell: list[str] | None = None  # the attributes of the last <c> seen
        self.refs: list[str] = []  # references of cells holding something, not yet folded into `sheet`
        self.error_at: tuple[int, int] = (0, 0)
        self.error_text: list[str] = []
        self.sheet_rels: list[tuple[str, str]] = []  # workbook.xml: (sheet name, relationship id)
        self.relationships: dict[str, tuple[str, str]] = {}  # workbook.xml.rels: id -> (type, target)
        p = expat.ParserCreate()
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.ordered_attributes = True  # a list is cheaper to build than a dict
        p.StartDoctypeDeclHandler = self._doctype
        p.EntityDeclHandler = self._entity
        if name == CONTENT_TYPES:
            p.StartElementHandler = self._start_content_types
        elif worksheet:
            self.sheet = SheetScan(name)
            p.StartElementHandler = self._start_sheet
        elif role == "workbook":
            p.StartElementHandler = self._start_workbook
        elif role == "rels":
            p.StartElementHandler = self._start_rels
        else:
            p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        self.parser = p

    def _doctype(self, name: str, *_: Any) -> None:
        raise _Refused("F002", "doctype", f"part {self.name} declares a DOCTYPE (entities are not allowed)", part=self.name)

    def _entity(self, name: str, *_: Any) -> None:
        raise _Refused("F002", "doctype", f"part {self.name} declares the entity {name}", part=self.name)

    def _too_deep(self) -> None:
        raise _Refused(
            "F002", "depth", f"part {self.name} nests elements more than {self.max_depth} deep",
            part=self.name, limit=self.max_depth,
        )

    def _start(self, name: str, attrs: list[str]) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            self._too_deep()

    def _start_sheet(self, name: str, attrs: list[str]) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            self._too_deep()
        if name == "c":  # the commonest element: only remembered for its value
            self.cell = attrs
        elif name == "t":  # the text of an inline string, counted at its <is>
            return
        elif name == "v" or name == "is":  # its cell's reference comes first, as Excel and every library write it
            cell = self.cell
            if cell and cell[0] == "r" and (name == "is" or "e" not in cell):
                self.refs.append(cell[1])
            else:
                self._content(name)
            if self.open_row:
                self._count_row()
        elif name == "row":
            self.open_row = True
        else:
            local = name.rpartition(":")[2]
            if local == "c":
                self.cell = attrs
            elif local == "row":
                self.open_row = True
            elif local == "v" or local == "is" or local == "f":
                self._content(local)
                if self.open_row and local != "f":
                    self._count_row()

    def _content(self, local: str) -> None:
        """The cell holding this value, inline string or formula: its place, and an error value's text."""
        cell = self.cell
        if cell is None:
            return
        if cell and cell[0] == "r":
            self.refs.append(cell[1])
        else:
            self._place(_attribute(cell, "r"))
        if local == "v" and "e" in cell and _attribute(cell, "t") == "e":
            self._error_value(cell)

    def _count_row(self) -> None:
        self.open_row = False
        self.rows += 1
        if self.rows > self.max_rows:
            raise _Refused(
                "F002", "rows",
                f"sheet part {self.name} holds values on more than {self.max_rows} rows; the limit is {self.max_rows}",
                part=self.name, limit=self.max_rows,
            )

    def fold(self) -> None:
        """Take the cell references gathered into the sheet's furthest row and column (after each chunk)."""
        if self.sheet is not None:
            self._fold()

    def _fold(self) -> None:
        """The cell references gathered so far into `max_row` and `max_col`, a batch at a time.

        A batch of well-formed references (`B7`, letters up to XFD) is judged
        by a few regular expressions over the batch; a batch holding any other
        is taken one reference at a time by `_place`.
        """
        refs, self.refs = self.refs, []
        if not refs:
            return
        joined = " ".join(refs)
        rows = _DIGITS.findall(joined)
        columns = [COLUMNS.get(letters.upper()) for letters in set(_LETTERS.findall(joined))]
        # One row number per reference: no reference held a space or was empty.
        if not _REFS.fullmatch(joined) or len(rows) != len(refs) or None in columns:
            for ref in refs:
                self._place(ref)
            return
        sheet = self.sheet
        sheet.max_row = max(sheet.max_row, *map(int, rows))
        sheet.max_col = max(sheet.max_col, *columns)

    def _place(self, ref: str | None) -> tuple[int, int] | None:
        """(row, column) of a cell reference, counted into the furthest cell; None (not exact) if unreadable."""
        sheet = self.sheet
        letters = ref.rstrip("0123456789") if ref else ""
        col = COLUMNS.get(letters.upper())
        digits = ref[len(letters):] if ref else ""
        if col is None or not (digits.isascii() and digits.isdigit()):
            sheet.exact = False
            return None
        row = int(digits)
        if row > sheet.max_row:
            sheet.max_row = row
        if col > sheet.max_col:
            sheet.max_col = col
        return row, col

    def _error_value(self, cell: list[str]) -> None:
        """Record the text of this error cell's value (`#REF!`) at its place."""
        at = self._place(_attribute(cell, "r"))
        if at is None:
            return
        self.error_at = at
        self.error_text = []
        self.parser.CharacterDataHandler = self.error_text.append
        self.parser.EndElementHandler = self._end_error

    def _end_error(self, name: str) -> None:
        self.depth -= 1
        self.sheet.errors[self.error_at] = "".join(self.error_text).strip()
        self.parser.CharacterDataHandler = None
        self.parser.EndElementHandler = self._end

    def _start_content_types(self, name: str, attrs: list[str]) -> None:
        self._start(name, attrs)
        values = dict(zip(attrs[::2], attrs[1::2]))
        content_type = values.get("ContentType", "")
        part = values.get("PartName", "").lstrip("/")
        if content_type == WORKSHEET_TYPE and part:
            self.worksheets.add(part)
        if not self.macro_part and any(t in content_type.lower() for t in MACRO_TYPES):
            self.macro_part = part or f"*.{values.get('Extension', '')}"

    def _start_workbook(self, name: str, attrs: list[str]) -> None:
        self._start(name, attrs)
        if name.rpartition(":")[2] == "sheet":
            values = dict(zip(attrs[::2], attrs[1::2]))
            rel_id = next((v for k, v in values.items() if k.endswith(":id")), "")
            self.sheet_rels.append((values.get("name", ""), rel_id))

    def _start_rels(self, name: str, attrs: list[str]) -> None:
        self._start(name, attrs)
        if name.rpartition(":")[2] == "Relationship":
            values = dict(zip(attrs[::2], attrs[1::2]))
            if values.get("TargetMode") != "External":
                self.relationships[values.get("Id", "")] = (values.get("Type", ""), values.get("Target", ""))

    def _end(self, name: str) -> None:
        self.depth -= 1


def _attribute(attrs: list[str], key: str) -> str | None:
    """An attribute's value from expat's ordered list [name, value, name, value, ...]."""
    for i in range(0, len(attrs) - 1, 2):
        if attrs[i] == key:
            return attrs[i + 1]
    return None
