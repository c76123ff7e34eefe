"""The web portal's pages, with Starlette's TestClient: accounts, provider check/send/results, finance.

Security (issue 18 point 6) is in test_portal_security.py; whole journeys in a
real browser in test_portal_browser.py.
"""

from __future__ import annotations

import hashlib
import re
import io
import sqlite3

import openpyxl
import pytest
from portal_site import H1, P1, P2, PASSWORD, ROOT, Site, bill, csrf, make_inbox, text_of
from starlette.testclient import TestClient

from reconcile.portal.app import create_app


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("portal")
    inbox, outbox = make_inbox(root)
    app = create_app(inbox, outbox, ROOT / "config", workers=1)
    with TestClient(app):  # runs the lifespan: the worker pool starts, and stops after the module
        yield Site(root, inbox, outbox, app)


def upload(client, url: str, path, name: str | None = None, page: str = "/check"):
    token = csrf(client.get(page).text)
    return client.post(url, data={"csrf": token}, files={"workbook": (name or path.name, path.read_bytes())})


# --- accounts and language -----------------------------------------------------------

def test_signup_link_sets_password_then_sign_in_and_out(site):
    name, token = site.invite(P1)
    c = TestClient(site.app)
    page = c.get(f"/signup/{token}")
    assert page.status_code == 200 and name in page.text
    short = c.post(f"/signup/{token}", data={"csrf": csrf(page.text), "password": "short", "password2": "short"})
    assert short.status_code == 400  # too short: the link is not spent
    done = c.post(f"/signup/{token}", data={"csrf": csrf(page.text), "password": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 200
    wrong = c.post("/signin", data={"csrf": csrf(done.text), "name": name, "password": PASSWORD + "x"})
    assert wrong.status_code == 401
    r = c.post("/signin", data={"csrf": csrf(wrong.text), "name": name, "password": PASSWORD})
    assert r.url.path == "/check"
    r = c.post("/signout", data={"csrf": csrf(r.text)})
    assert r.url.path == "/signin"
    assert c.get("/check").url.path == "/signin"  # signed out: back to the sign-in page


def test_password_stored_only_as_argon2_hash(site):
    site.client(P1)
    con = sqlite3.connect(site.ledger)
    hashes = [h for (h,) in con.execute("SELECT password_hash FROM portal_users")]
    links = [t for (t,) in con.execute("SELECT token_sha256 FROM portal_links")]
    con.close()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes if h)
    assert not any(PASSWORD in h for h in hashes)
    assert all(len(t) == 64 for t in links)  # only the token's sha256


def test_language_choice_is_remembered_across_sign_ins(site):
    name, token = site.invite(P1, lang="fi")
    c = TestClient(site.app)
    page = c.get(f"/signup/{token}")
    page = c.post(f"/signup/{token}", data={"csrf": csrf(page.text), "password": PASSWORD, "password2": PASSWORD})
    r = c.post("/signin", data={"csrf": csrf(page.text), "name": name, "password": PASSWORD})
    assert "Tarkasta lasku" in r.text
    r = c.post("/language", data={"csrf": csrf(r.text), "lang": "sv", "back": "/check"})
    assert "Granska faktura" in r.text and r.url.path == "/check"
    c.post("/signout", data={"csrf": csrf(r.text)})
    other = TestClient(site.app)  # another browser: the account remembers
    page = other.get("/signin")
    r = other.post("/signin", data={"csrf": csrf(page.text), "name": name, "password": PASSWORD})
    assert "Granska faktura" in r.text and '<html lang="sv">' in r.text


# --- provider: check ---------------------------------------------------------------

def test_check_shows_findings_in_the_providers_language_and_stores_nothing(site, tmp_path):
    c = site.client(P1, lang="en")
    # Mon 9 - Fri 13 November: five days for a four-day decision; the 13th (column O: C is day 1) is rejected.
    path = bill(tmp_path / "mine.xlsx", days=(9, 10, 11, 12, 13))
    before = sorted(p for p in site.root.rglob("*") if p.is_file())
    r = upload(c, "/check", path)
    assert r.status_code == 200
    text = text_of(r.text)
    assert "R205" in text and "Läsnäolo!O2" in text
    assert "Rule Cell What is wrong How to fix" in text
    assert "Claimed €250.00" in text and "Approved €200.00" in text and "Rejected €50.00" in text
    assert "Mark at most the decision's number of days in a calendar week" in text
    assert sorted(p for p in site.root.rglob("*") if p.is_file()) == before  # nothing stored


def test_check_annotated_copy_downloads_and_opens(site, tmp_path):
    c = site.client(P1, lang="sv")
    r = upload(c, "/check", bill(tmp_path / "mine.xlsx", days=(9, 10, 11, 12, 13)))
    link = next(part.split('"')[0] for part in r.text.split('href="')[1:] if "annotated.xlsx" in part)
    got = c.get(link)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(got.content))
    assert wb.sheetnames[0] == "Granskning"  # the review sheet in Swedish, first
    cell = wb["Läsnäolo"]["O2"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "R205" in cell.comment.text
    assert TestClient(site.app).get(link).url.path == "/signin"  # not without the session
    assert site.client(P1).get(link).status_code == 404  # nor for another account of the same provider


def test_check_of_another_providers_workbook_shows_no_findings(site, tmp_path):
    c = site.client(P1)
    r = upload(c, "/check", bill(tmp_path / "theirs.xlsx", provider=P2, invoice_no="9", decision="D-2"))
    assert r.status_code == 403
    assert P2 in text_of(r.text) and "R20" not in r.text and "annotated.xlsx" not in r.text


# --- provider: send, receipts --------------------------------------------------------

def test_send_writes_atomically_into_the_open_batch_with_a_receipt(site, tmp_path):
    c = site.client(P1)
    path = bill(tmp_path / "lasku marras.xlsx", invoice_no="103", days=(16, 17))
    r = upload(c, "/send", path, page="/send")
    assert r.status_code == 200 and r.url.path.startswith("/receipts/")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    text = text_of(r.text)
    # 2026-11 has been run, so a November invoice goes to the next batch.
    assert "2026-12" in text and digest in text and "lasku marras.xlsx" in text
    sent = [p for p in (site.inbox / "2026-12").iterdir() if "_103_" in p.name]
    assert len(sent) == 1 and sent[0].read_bytes() == path.read_bytes()
    assert sent[0].name.startswith(f"{P1}_103_") and sent[0].name in text
    assert not list((site.inbox / ".portal-incoming").iterdir())  # no temporary file left
    assert sorted(p.name for p in (site.inbox / "2026-11").iterdir()) == ["kaksi.xlsx", "yksi.xlsx"]
    listing = c.get("/receipts")
    assert r.url.path in listing.text


def test_send_refuses_f001_with_its_finding(site, tmp_path):
    c = site.client(P1, lang="en")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"this is not a workbook at all")
    before = sorted(p for p in site.inbox.rglob("*") if p.is_file())
    r = upload(c, "/send", junk, page="/send")
    assert r.status_code == 422
    assert "F001" in r.text and "cannot be received" in r.text
    assert sorted(p for p in site.inbox.rglob("*") if p.is_file()) == before


def test_send_goes_to_its_own_month_when_that_batch_is_open(site, tmp_path):
    c = site.client(P1)
    path = write_december(tmp_path / "joulu.xlsx")
    r = upload(c, "/send", path, page="/send")
    assert "2026-12" in text_of(r.text)


def write_december(path):
    from test_batch import D, write_bill

    return write_bill(path, P1, "104", D(2026, 12, 1), "D-1", H1, [1, 2])


# --- provider: results and templates -------------------------------------------------

def test_results_list_only_own_files_and_download(site):
    c = site.client(P1)
    page = c.get("/results")
    assert "/results/2026-11/101/annotated.xlsx" in page.text and "/results/2026-11/101/anomalies.xlsx" in page.text
    import re

    assert re.findall(r'href="(/results/[^"]+)"', page.text) == [
        "/results/2026-11/101/annotated.xlsx", "/results/2026-11/101/anomalies.xlsx"]  # not P2's 201
    got = c.get("/results/2026-11/101/annotated.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(got.content))
    assert wb.sheetnames[0] == "Tarkastus"


def test_template_for_a_month(site):
    c = site.client(P1)
    r = c.get("/template?month=2026-12")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    values = [cell.value for row in wb["Lasku"].iter_rows() for cell in row]
    assert P1 in values and "Yksi Oy" in values
    assert c.get("/template?month=2026-13").status_code == 400


# --- finance ----------------------------------------------------------------------

def test_finance_batch_totals_findings_and_sign_off(site):
    f = site.client()
    home = f.get("/finance")
    assert "2026-11" in home.text
    page = f.get("/finance/2026-11")
    text = text_of(page.text)
    # 101: three days at 50.00, 201: one day: both approved, 200.00 in all.
    assert "hyväksytty 2 200,00 € 200,00 € 0,00 € 0,00 €" in text
    inv = f.get("/finance/2026-11/invoice", params={"provider": P1, "invoice": "101"})
    assert inv.status_code == 200 and "150,00" in inv.text
    r = f.post("/finance/2026-11/signoff", data={"csrf": csrf(inv.text), "provider": P1, "invoice": "101"})
    assert r.status_code == 200 and "hyväksyttiin maksuun" in r.text
    con = sqlite3.connect(site.ledger)
    who = con.execute("SELECT signed_off_by FROM invoices WHERE batch='2026-11' AND invoice_no='101'").fetchone()
    con.close()
    assert who == (f.name,)
    again = f.post("/finance/2026-11/signoff", data={"csrf": csrf(r.text), "provider": P1, "invoice": "101"})
    assert "oli jo hyväksytty" in again.text
    assert f.get("/finance/2026-11/payments").status_code == 200
    assert f.get("/finance/2026-11/held").status_code == 200


def test_busy_pool_says_try_again(site, tmp_path):
    c = site.client(P1, lang="en")
    pool = site.state.pool
    limit, pool.limit = pool.limit, 0
    try:
        r = upload(c, "/check", bill(tmp_path / "x.xlsx"))
    finally:
        pool.limit = limit
    assert r.status_code == 503 and "busy" in r.text


def test_checks_run_in_worker_processes(site):
    import os

    from reconcile.portal import pool as pool_mod

    worker = site.state.pool._pool().submit(pool_mod._ping).result()
    assert worker != os.getpid()


# --- command line -----------------------------------------------------------------------

def test_users_add_prints_a_one_time_link(site):
    from click.testing import CliRunner

    from reconcile.cli import main

    args = ["users", "add", "--config", str(ROOT / "config"), "--outbox", str(site.outbox)]
    r = CliRunner().invoke(main, [*args, "--provider", P1, "maija", "--url", "https://laskut.turku.fi/"])
    assert r.exit_code == 0, r.output
    link = r.stdout.strip()
    assert link.startswith("https://laskut.turku.fi/signup/") and len(link.rsplit("/", 1)[1]) >= 40
    token = link.rsplit("/", 1)[1]
    assert TestClient(site.app).get(f"/signup/{token}").status_code == 200
    again = CliRunner().invoke(main, [*args, "--provider", P1, "maija"])  # a new link voids the old one
    assert again.exit_code == 0 and TestClient(site.app).get(f"/signup/{token}").status_code == 410
    assert CliRunner().invoke(main, [*args, "--finance", "maija"]).exit_code == 2  # taken by a provider account
    assert CliRunner().invoke(main, [*args, "--provider", "1234567-0", "x"]).exit_code == 2  # bad check digit
    assert CliRunner().invoke(main, [*args, "x"]).exit_code == 2  # neither kind
    assert CliRunner().invoke(main, ["serve", "--help"]).exit_code == 0


def test_portal_on_a_postgresql_ledger(pg_url, tmp_path):
    inbox, outbox = make_inbox(tmp_path, ledger=pg_url)
    app = create_app(inbox, outbox, ROOT / "config", ledger=pg_url, workers=1)
    with TestClient(app):
        pg = Site(tmp_path, inbox, outbox, app, pg_url)
        provider = pg.client(P1, lang="en")
        # Invoice 101 of P1 is in the PostgreSQL ledger (batch 2026-11): checking it again is a duplicate.
        again = upload(provider, "/check", inbox / "2026-11" / "yksi.xlsx")
        assert "F007" in again.text
        finance = pg.client(lang="en")
        inv = finance.get("/finance/2026-11/invoice", params={"provider": P1, "invoice": "101"})
        done = finance.post("/finance/2026-11/signoff", data={"csrf": csrf(inv.text), "provider": P1, "invoice": "101"})
        assert f"Signed off by {finance.name}" in text_of(done.text)
        assert (outbox / "ledger.sqlite").exists() is False  # nothing went to a SQLite file


def test_finance_resolves_two_held_days_signs_off_and_sees_the_payment(tmp_path):
    from test_batch import D, write_bill

    from reconcile import batch as batch_mod, config as config_mod

    # Two invoices of P1 bill the same client (D-1) on Wed 2 December: R216 holds that day on both.
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    from test_batch import make_registers

    make_registers(inbox)
    (inbox / "2026-12").mkdir()
    write_bill(inbox / "2026-12" / "a.xlsx", P1, "501", D(2026, 12, 1), "D-1", H1, [1, 2])
    write_bill(inbox / "2026-12" / "b.xlsx", P1, "502", D(2026, 12, 1), "D-1", H1, [2])
    batch_mod.run_batch(inbox, outbox, config_mod.load(ROOT / "config"), batch="2026-12")
    app = create_app(inbox, outbox, ROOT / "config", workers=1)
    with TestClient(app):
        f = Site(tmp_path, inbox, outbox, app).client(lang="en")
        page = f.get("/finance/2026-12/held")
        rows = re.findall(r'<tr>\s*<td>([^<]*)</td><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>.*?'
                          r'name="answer_(\d+)"', page.text, re.S)
        assert sorted(r[:4] for r in rows) == [(P1, "501", "D-1", "2026-12-02"), (P1, "502", "D-1", "2026-12-02")]
        index = {number: i for _, number, _, _, i in rows}
        r = f.post("/finance/2026-12/held", data={
            "csrf": csrf(page.text), f"answer_{index['501']}": "pay",
            f"answer_{index['502']}": "reject", f"reason_{index['502']}": "Billed twice; paid on invoice 501."})
        assert r.status_code == 200 and "2 answer(s) recorded." in text_of(r.text)
        assert "answer_" not in r.text  # both answered: no more choices
        con = sqlite3.connect(outbox / "ledger.sqlite")
        answers = sorted(con.execute("SELECT invoice_no, resolution, amount_cents, resolved_by FROM resolutions"))
        con.close()
        # The day's fee is 50.00: paid into approved on 501, rejected on 502.
        assert answers == [("501", "pay", 5000, f.name), ("502", "reject", -5000, f.name)]
        inv = f.get("/finance/2026-12/invoice", params={"provider": P1, "invoice": "501"})
        done = f.post("/finance/2026-12/signoff", data={"csrf": csrf(inv.text), "provider": P1, "invoice": "501"})
        assert "Invoice 501 is signed off." in text_of(done.text)
        payments = text_of(f.get("/finance/2026-12/payments").text)
        assert "501 invoice €100.00" in payments  # two days at 50.00, the held one paid
