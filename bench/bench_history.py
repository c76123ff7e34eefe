"""Benchmark: does a run's cost follow its batch, or the years of history behind it?

    .venv/bin/python bench/bench_history.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/bench_history.py --backends sqlite
    .venv/bin/python bench/bench_history.py --pg "postgresql://user@/{db}?host=/var/run/postgresql"

The 1/5-national demo inbox (100 providers, 6,000 clients, batches 2026-10
and 2026-11) is generated once under bench/cache/fifth/. Batch 2026-10 is
run into a fresh SQLite ledger: the **1-month** ledger. The **60-month**
ledger is that one plus 59 earlier months made by copying October's rows
(batches, invoices, days and assessments, dates moved back month by month;
the same clients, but invoice and decision numbers suffixed per month, as
earlier placements of the same people have numbers of their own). On PostgreSQL (databases `reconcile_bench_one`
and `reconcile_bench_sixty`, created and filled with COPY, then ANALYZEd)
the same two ledgers. Ledgers are cached in bench/cache/history/.

Then batch 2026-11 is run against each ledger in a fresh child process
(`batch.run_batch`; peak RSS of the process and its workers, sampled from
/proc), and the history it reads is timed on its own. Figures go to
bench/results/history.json.

Targets (issue 13): on both backends the 60-month run within 1.15x the time
and 1.3x the peak memory of the 1-month run; on PostgreSQL within 1.25x of
the same run on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run import PeakMemory, machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "cache"
HERE = CACHE / "history"
RESULTS = ROOT / "bench" / "results" / "history.json"
PROVIDERS, CLIENTS = 100, 6000
MONTHS = 60
PG_DEFAULT = "postgresql://{user}@/{db}?host=/var/run/postgresql"
TABLES = ("batches", "invoices", "days", "assessments")


def inbox() -> Path:
    from reconcile import demo

    path = CACHE / "fifth" / "inbox"
    if not (path / "2026-11").is_dir():
        shutil.rmtree(path, ignore_errors=True)
        demo.write_inbox(path, config_dir=ROOT / "config", providers=PROVIDERS, clients=CLIENTS,
                         batches="2026-10..2026-11", seed=2026, anomaly_rate=0.03)
    return path


def month_back(batch: str, k: int) -> str:
    year, month = map(int, batch.split("-"))
    n = year * 12 + month - 1 - k
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def one_month_sqlite() -> Path:
    """The ledger after batch 2026-10 alone."""
    from reconcile import batch, config

    path = HERE / "one.sqlite"
    if not path.is_file():
        HERE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=HERE) as tmp:
            batch.run_batch(inbox(), Path(tmp) / "outbox", config.load(ROOT / "config"), "2026-10", str(path))
    return path


def earlier_months(one: Path):
    """(table, rows) of the 59 months before 2026-10, copied from October's rows."""
    import polars as pl

    with sqlite3.connect(one) as conn:
        frames = {t: pl.read_database(f"SELECT * FROM {t} WHERE batch = '2026-10'", conn) for t in TABLES}
    for k in range(1, MONTHS):
        label = month_back("2026-10", k)

        def shifted(frame, *dates):
            return frame.with_columns(
                pl.lit(label).alias("batch"),
                *(pl.col(c).str.to_date().dt.offset_by(f"-{k}mo").dt.strftime("%Y-%m-%d").alias(c) for c in dates))

        yield "batches", shifted(frames["batches"]).with_columns(run_id=pl.lit(f"bench{k:02d}"))
        # Earlier months are earlier placements of the same clients: their own invoice and decision numbers.
        suffix, decision = pl.col("invoice_no") + f"-h{k:02d}", pl.col("decision_id") + f"-h{k:02d}"
        yield "invoices", shifted(frames["invoices"], "billing_month").with_columns(invoice_no=suffix)
        yield "days", shifted(frames["days"], "date").with_columns(invoice_no=suffix, decision_id=decision)
        yield "assessments", shifted(frames["assessments"], "date").with_columns(decision_id=decision).unique()


def sixty_months_sqlite() -> Path:
    path = HERE / "sixty.sqlite"
    if not path.is_file():
        work = path.with_suffix(".tmp")
        shutil.copy(one_month_sqlite(), work)
        with sqlite3.connect(work) as conn:
            for table, frame in earlier_months(one_month_sqlite()):
                marks = ", ".join("?" * frame.width)
                conn.executemany(f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES ({marks})", frame.iter_rows())
            conn.execute("ANALYZE")
        work.replace(path)
    return path


def postgres(url_template: str, name: str, source: Path) -> str:
    """A PostgreSQL ledger holding what the SQLite file `source` holds (made once: COPY, then ANALYZE)."""
    import getpass

    import psycopg
    from reconcile import ledger

    url = url_template.format(user=getpass.getuser(), db=f"reconcile_bench_{name}")
    admin = url_template.format(user=getpass.getuser(), db="postgres")
    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (f"reconcile_bench_{name}",)).fetchone():
            return url
        conn.execute(f'CREATE DATABASE "reconcile_bench_{name}"')
    ledger.migrate(url)
    with sqlite3.connect(source) as lite, psycopg.connect(url) as pg:
        for table in ("batches", "runs", "invoices", "days", "assessments"):
            columns = [r[1] for r in lite.execute(f"PRAGMA table_info({table})")]
            with pg.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in lite.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                    copy.write_row(row)
        pg.commit()
        pg.autocommit = True
        pg.execute("ANALYZE")
    return url


def counts(where: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from reconcile import ledger
    from reconcile.ledger import schema

    with ledger.open_ledger(where, readonly=True) as book, book.transaction() as conn:
        return {t: conn.execute(select(func.count()).select_from(schema.METADATA.tables[t])).scalar() for t in TABLES}


def one(where: str) -> dict:
    """Batch 2026-11 against one ledger, in this (fresh) process."""
    from reconcile import batch, config, ledger
    from reconcile.read import registers as registers_mod

    cfg = config.load(ROOT / "config")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = batch.run_batch(inbox(), Path(tmp) / "outbox", cfg, "2026-11", where)
            wall = time.perf_counter() - start
    # The history read alone, as the run read it.
    _, _, _, invoices = batch.read_batch(inbox(), "2026-11", cfg)
    scope = batch.history_scope(invoices, registers_mod.read_registers(inbox(), cfg))
    with ledger.open_ledger(where, readonly=True) as book:
        start = time.perf_counter()
        history = book.history("2026-11", before="2026-11", scope=scope)
        read = time.perf_counter() - start
    return {"wall_s": round(wall, 3), "peak_rss_with_workers_mib": round(memory.peak / 2**20, 1),
            "stages_s": {k: round(v, 3) for k, v in result.timings.items()}, "history_read_s": round(read, 3),
            "history_rows": {"paid_days": history.paid_days.height, "held_days": history.held_days.height,
                             "invoices": history.invoices.height, "assessments": history.assessments.height},
            "findings": len(result.findings), "load_average_before": round(load, 2)}


def child(where: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", where], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL URL with {user} and {db} (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per ledger; the fastest counts")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one)))
        return 0
    inbox()
    ledgers = {"sqlite": {"1 month": str(one_month_sqlite()), "60 months": str(sixty_months_sqlite())}}
    if "postgresql" in args.backends:
        ledgers["postgresql"] = {"1 month": postgres(args.pg, "one", one_month_sqlite()),
                                 "60 months": postgres(args.pg, "sixty", sixty_months_sqlite())}
    figures: dict = {}
    for backend in args.backends:
        for size, where in ledgers[backend].items():
            held = counts(where)
            runs = [child(where) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["wall_s"])
            best["peak_rss_with_workers_mib"] = min(r["peak_rss_with_workers_mib"] for r in runs)
            best["ledger_rows"] = held
            figures.setdefault(backend, {})[size] = best
            print(f"{backend:10} {size:9} ledger {held['days']:>9,} days: {best['wall_s']:6.2f} s wall, "
                  f"{best['peak_rss_with_workers_mib']:7.1f} MiB peak, history read {best['history_read_s']:.3f} s "
                  f"({best['history_rows']['paid_days']:,} paid days), load {best['load_average_before']:.2f}")
        one_, sixty = figures[backend]["1 month"], figures[backend]["60 months"]
        figures[backend]["ratio_60_to_1"] = {
            "time": round(sixty["wall_s"] / one_["wall_s"], 3),
            "memory": round(sixty["peak_rss_with_workers_mib"] / one_["peak_rss_with_workers_mib"], 3)}
        print(f"{backend:10} 60 months / 1 month: time {figures[backend]['ratio_60_to_1']['time']:.2f}x, "
              f"memory {figures[backend]['ratio_60_to_1']['memory']:.2f}x")
    if {"sqlite", "postgresql"} <= set(figures):
        figures["postgresql_to_sqlite"] = {
            size: round(figures["postgresql"][size]["wall_s"] / figures["sqlite"][size]["wall_s"], 3)
            for size in ("1 month", "60 months")}
        print("PostgreSQL / SQLite: " + ", ".join(f"{k} {v:.2f}x" for k, v in figures["postgresql_to_sqlite"].items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "inbox": {"providers": PROVIDERS, "clients": CLIENTS, "batch": "2026-11"},
              "figures": figures}
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
