"""Helpers shared by several test modules (import them: `from helpers import ...`).

    ROOT, CONFIG   the checkout and its config/ loaded
    Unpacked       counts the bytes a scan unpacks from zip members: the work it does
"""

from __future__ import annotations

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
