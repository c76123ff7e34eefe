"""`audit/manifest.json`: what went into a run and what came out, written last.

Holds the run id, start and end time (UTC), the program, contract and rules
versions, the sha256 of every input file (by path relative to the inbox), of
the configuration and of every other output file (by path relative to the
batch's outbox folder), and counts: invoices by status, rows, findings by
rule, and the lock files that were ignored; and the rate values applied
(the block in force for each billed month), not only the config's hash. Keys are sorted and lists are
in a stable order, so on a rerun of the same inputs everything but the two
times is byte-identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

from reconcile import CONTRACT_VERSION, RULES_VERSION, __version__
from reconcile.config import Config
from reconcile.model import STATUSES, BatchResult

MANIFEST = Path("audit") / "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utc(t: dt.datetime | None) -> str:
    if t is None:
        return ""
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def manifest(result: BatchResult, out_dir: Path, config: Config) -> dict:
    """The manifest's content for the outputs already under `out_dir`."""
    outputs = {
        p.relative_to(out_dir).as_posix(): sha256_file(p)
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.relative_to(out_dir) != MANIFEST
    }
    statuses = Counter(inv.status for inv in result.invoices)
    rules = Counter(f.rule for f in result.findings)
    rows = sum(inv.rows.height for inv in result.invoices if inv.rows is not None)
    content = {
        "run_id": result.run_id,
        "batch": result.batch,
        "started": _utc(result.started),
        "finished": _utc(result.finished),
        "program_version": __version__,
        "contract_version": CONTRACT_VERSION,
        "rules_version": RULES_VERSION,
        "config_sha256": config.sha256,
        "rates_applied": rates_applied(result, config),
        "inputs": dict(sorted(result.inputs.items())),
        "outputs": outputs,
        "ignored": sorted(result.ignored),
        "counts": {
            "invoices": len(result.invoices),
            "invoices_by_status": {s: statuses.get(s, 0) for s in STATUSES},
            "rows": rows,
            "findings": sum(rules.values()),
            "findings_by_rule": dict(sorted(rules.items())),
        },
    }
    if result.replaces is not None:  # a run of other inputs replaced the batch's earlier record
        content["replaces"] = result.replaces
    return content


def rates_applied(result: BatchResult, config: Config) -> dict[str, dict[str, str]]:
    """The rate block in force for each month the batch's invoices bill (and the batch's own month)."""
    from reconcile.check.work import rates_for
    from reconcile.periods import parse_month as batch_month

    months = {batch_month(result.batch)} | {inv.billing_month.replace(day=1) for inv in result.invoices
                                             if inv.billing_month is not None}
    return {m.strftime("%Y-%m"): rates_for(config, m).as_text() for m in sorted(months)}


def write_manifest(result: BatchResult, out_dir: Path, config: Config) -> Path:
    """Write `audit/manifest.json` under `out_dir`, hashing every file already there."""
    path = out_dir / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest(result, out_dir, config), sort_keys=True, indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
