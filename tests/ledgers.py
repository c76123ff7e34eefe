"""Test helpers for the ledger on both backends.

    ledger_url   fixture, parametrized: a SQLite file path under tmp_path, and a
                 fresh PostgreSQL database's URL (tests/services.py's pg_url;
                 marked `postgres`, so it skips with a reason where no server runs)
    rows(where, sql)   the rows of a query, on either backend
    dump(where)        a ledger's content, without when a batch was recorded or
                       which outbox it matches, in one order on both backends
A plugin of tests/conftest.py: the fixtures are there for every test module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from reconcile.ledger import connect


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return request.getfixturevalue("pg_url")


def rows(where: str | Path, sql: str, **params) -> list[tuple]:
    """The rows of one statement (committed), on a SQLite file or a PostgreSQL URL."""
    eng = create_engine(connect.parse(str(where)).url, poolclass=NullPool)
    try:
        with eng.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        eng.dispose()


def dump(where: str | Path) -> dict[str, list[tuple]]:
    """What a ledger holds (`batches` without its times and outbox hash), sorted the same on both backends."""
    c = ' COLLATE "C"' if connect.parse(str(where)).path is None else ""
    return {
        "batches": rows(where, f"SELECT batch, run_id FROM batches ORDER BY batch{c}"),
        "invoices": rows(where, f"SELECT * FROM invoices ORDER BY batch{c}, provider_id{c}, invoice_no{c}"),
        "days": rows(where, f"SELECT * FROM days ORDER BY batch{c}, provider_id{c}, invoice_no{c}, decision_id{c}, "
                            f"hetu{c}, date{c}, state{c}"),
        "assessments": rows(where, f"SELECT * FROM assessments ORDER BY batch{c}, decision_id{c}, kind{c}, date{c}"),
    }


@pytest.fixture
def second_ledger_url(ledger_url, tmp_path):
    """Another empty ledger on the same backend as `ledger_url`."""
    if connect.parse(ledger_url).path is not None:
        yield str(tmp_path / "second.sqlite")
        return
    from services import fresh_database

    with fresh_database() as url:
        yield url


def dump_if_any(where: str | Path) -> dict[str, list[tuple]] | None:
    """`dump`, or None where there is no ledger yet (no file, or a database without tables)."""
    from reconcile import ledger

    return dump(where) if ledger.exists(str(where)) else None
