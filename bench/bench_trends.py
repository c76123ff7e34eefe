"""Benchmark: `reconcile report` over 12 months of a national-size ledger.

    .venv/bin/python bench/bench_trends.py            # writes bench/results/trends.json

The national demo inbox of bench_run.py (500 providers, 30,000 clients,
batch 2026-11; cached in bench/cache/national/) is run once into a SQLite
ledger, and its records (batches, invoices, days, assessments and the trend
rows) are copied to the eleven months before, 2025-12 to 2026-10, so the
ledger holds twelve national months (built once, cached beside the inbox).
Then the report over those twelve months runs as a user runs it, in a fresh
process: wall time and the process's peak RSS.

Target (issue 19): under 30 s and 2 GiB.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import bench_run  # noqa: E402  (the cached national inbox)

RESULTS = ROOT / "bench" / "results" / "trends.json"
MONTHS = [f"2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)]
SOURCE = "2026-11"
TABLES = ("batches", "invoices", "days", "assessments", "trend_batches", "trend_rows")


def ledger_for(inbox: Path) -> Path:
    """Twelve national months in a SQLite ledger, built once."""
    ledger = inbox.parent / "trends-ledger.sqlite"
    if ledger.is_file():
        return ledger
    from reconcile import batch, config

    partial = ledger.with_name(ledger.name + ".part")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        batch.run_batch(inbox, Path(tmp) / "outbox", config.load(ROOT / "config"), batch=SOURCE, ledger=str(partial))
    copy_months(partial)
    os.replace(partial, ledger)
    return ledger


def copy_months(partial: Path) -> None:
    """The source batch's records again under each other month."""
    with sqlite3.connect(partial) as conn:
        for month in MONTHS:
            if month == SOURCE:
                continue
            for table in TABLES:
                columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                rest = "".join(f', "{c}"' for c in columns if c != "batch")
                conn.execute(f"INSERT INTO {table} (batch{rest}) SELECT ?{rest} FROM {table} WHERE batch = ?",
                             (month, SOURCE))


def main() -> None:
    inbox = bench_run.inbox_for("national")
    ledger = ledger_for(inbox)
    with sqlite3.connect(ledger) as conn:
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        clock = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "reconcile", "report", "--inbox", str(inbox), "--outbox", str(Path(tmp) / "outbox"),
             "--config", str(ROOT / "config"), "--from", MONTHS[0], "--to", MONTHS[-1], "--ledger", str(ledger)],
            capture_output=True, text=True)
        wall = time.perf_counter() - clock
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        if proc.returncode:
            sys.exit(proc.stderr)
        csv_rows = sum(1 for _ in (Path(tmp) / "outbox" / "reports" / f"{MONTHS[0]}_{MONTHS[-1]}" / "trends.csv").open()) - 1
    result = {"months": len(MONTHS), "ledger_rows": sizes, "ledger_mib": round(ledger.stat().st_size / 2**20, 1),
              "wall_s": round(wall, 2), "peak_rss_mib": round(peak / 2**20, 1), "csv_rows": csv_rows,
              "load_1min_before": round(load, 2), "python": platform.python_version(), "cpus": os.cpu_count(),
              "targets": {"wall_s": 30, "peak_rss_mib": 2048}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
