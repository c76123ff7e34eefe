"""The last stage: the files of a batch's outbox, written into a staging folder.

`batch.run_batch` calls `write_outbox` on a fresh staging folder beside the
batch's outbox folder and swaps it in only when everything is written, so
this package never touches a live outbox. Order: the data files
(`write.csvs`), the workbooks (`write.workbooks`, when present), then the
manifest last, because it hashes all the others.

Everything written here is for the city's eyes only: folders are created
with mode 0o750 and files 0o640 (owner and group, masked by the umask).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Callable

from reconcile.config import Config
from reconcile.model import BatchResult
from reconcile.private import DIR_MODE, FILE_MODE, make_dirs  # noqa: F401 (re-exported)


def restrict_modes(root: Path) -> None:
    """Give every folder and file under `root` DIR_MODE / FILE_MODE, masked by the umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(root, DIR_MODE & ~umask)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), DIR_MODE & ~umask)
        for name in files:
            os.chmod(os.path.join(folder, name), FILE_MODE & ~umask)


def write_outbox(result: BatchResult, staging_dir: Path, config: Config,
                 checkpoint: Callable[[str], None] = lambda point: None) -> None:
    """Write every output file of a batch under `staging_dir`, the manifest last.

    `checkpoint("write")` is called between the data files and the workbooks
    (the batch's test hook for a crash in the middle of writing).
    """
    from reconcile.write import csvs, manifest

    make_dirs(staging_dir)
    csvs.write_findings(result, staging_dir / "audit" / "findings.csv", config.language)
    csvs.write_approval(result, staging_dir / "finance" / "approval.csv")
    csvs.write_resolutions(result, staging_dir / "finance" / "resolutions.csv")
    csvs.write_payments(result, staging_dir / "finance" / "payments.csv")
    checkpoint("write")
    if importlib.util.find_spec("reconcile.write.workbooks") is not None:
        from reconcile.write import workbooks

        workbooks.write_workbooks(result, staging_dir, config)
    manifest.write_manifest(result, staging_dir, config)
    restrict_modes(staging_dir)
