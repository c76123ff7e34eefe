"""Helpers shared by several test modules (import them: `from helpers import ...`).

    ROOT, CONFIG   the checkout and its config/ loaded
    Unpacked       counts the bytes a scan unpacks from zip members: the work it does
    annotated_folders  where annotated workbooks belong, from an outbox's CSVs
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

from reconcile import config as config_mod

ROOT = Path(__file__).resolve().parents[1]
CONFIG = config_mod.load(ROOT / "config")


class Unpacked:
    """While active, counts every byte read out of any zip member (`zipfile.ZipExtFile.read`):
    the work a scan does on an archive, the same on a busy machine as on an idle one."""

    def __init__(self, monkeypatch):
        self.bytes = 0
        real = zipfile.ZipExtFile.read

        def counting(part, n=-1):
            data = real(part, n)
            self.bytes += len(data)
            return data

        monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def annotated_folders(batch_folder: Path) -> set[str]:
    """Where annotated workbooks belong, read off the outbox's own CSVs rather than the program's
    functions: `providers/<Y-tunnus>/<invoice number>` of every invoice in approval.csv that has
    both and no F finding in findings.csv (a file rejected as a whole is never annotated)."""
    whole = {r["source_file"] for r in read_csv(batch_folder / "audit" / "findings.csv") if r["rule"].startswith("F")}
    return {f"providers/{r['provider_id']}/{r['invoice_no']}"
            for r in read_csv(batch_folder / "finance" / "approval.csv")
            if r["provider_id"] and r["invoice_no"] and r["source_file"] not in whole}
