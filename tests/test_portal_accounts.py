"""The portal's accounts in the ledger's database, on SQLite and on PostgreSQL alike (one door: reconcile.ledger)."""

from __future__ import annotations

import datetime as dt

import pytest
from portal_site import P1, PASSWORD  # noqa: F401 - also makes hashing cheap for the tests

from reconcile.ledger import open_ledger, schema
from reconcile.portal import accounts


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return request.getfixturevalue("pg_url")


def test_accounts_links_throttling_receipts_and_audit(ledger):
    store = accounts.open_accounts(ledger)
    with open_ledger(ledger, readonly=True) as book, book.transaction() as conn:
        version = conn.execute(schema.schema_version.select()).scalar_one()
    assert version == schema.SCHEMA_VERSION
    token = accounts.invite(ledger, "maija", P1, False, "sv")
    user = store.use_link(token, PASSWORD)
    assert (user.name, user.role, user.provider_id, user.language) == ("maija", "provider", P1, "sv")
    with pytest.raises(accounts.AccountError):
        store.use_link(token, "another password!")  # used once
    now = accounts.utcnow()
    for i in range(5):
        with pytest.raises(accounts.AccountError, match="bad_credentials"):
            store.sign_in("maija", "wrong", f"10.0.0.{i}", now=now)
    with pytest.raises(accounts.AccountError, match="throttled"):
        store.sign_in("maija", PASSWORD, "10.0.1.1", now=now)
    assert store.sign_in("maija", PASSWORD, "10.0.1.1", now=now + dt.timedelta(minutes=16)).id == user.id
    rid = store.add_receipt(user, "2026-12", "x.xlsx", "lasku 131052-308T.xlsx", "ab" * 32, 10, "7", now)
    assert store.receipt(rid, P1).original_name == "lasku 131052-****.xlsx"
    assert store.receipt(rid, "7654321-2") is None and store.receipts("7654321-2") == []
    store.audit("maija", "check", "file=131052-308T.xlsx sha256=00")
    assert [(a.who, a.action, a.detail) for a in store.audit_log()] == [
        ("maija", "check", "file=131052-****.xlsx sha256=00")]
    assert store.secret() == accounts.open_accounts(ledger).secret()  # made once, kept
