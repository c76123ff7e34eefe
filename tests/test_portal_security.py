"""The portal's security, one test (or more) per item of issue 18 point 6.

- provider A asking for B's files, findings or receipts by URL;
- a form posted without or with a wrong CSRF token;
- the 6th failed sign-in in 15 minutes (per account and per address);
- session cookie flags (HttpOnly, SameSite=Strict, Secure behind https);
- an expired or reused sign-up link;
- path traversal and odd names in uploads and in URLs;
- every hostile file kind of the intake tests uploaded to check and send;
- no full henkilötunnus in any page, log line or audit record.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3

import hostile
import pytest
from portal_site import H1, H2, P1, P2, PASSWORD, ROOT, Site, bill, csrf, make_inbox
from starlette.testclient import TestClient

from reconcile.portal import accounts
from reconcile.portal.app import RedactLog, create_app
from reconcile.text.messages import HETU_RE


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("portal-sec")
    inbox, outbox = make_inbox(root)
    app = create_app(inbox, outbox, ROOT / "config", workers=2)
    with TestClient(app):
        yield Site(root, inbox, outbox, app)


def inbox_files(site: Site) -> list:
    return sorted(p for p in site.inbox.rglob("*") if p.is_file())


def post_file(client, url, name, data, page="/check"):
    return client.post(url, data={"csrf": csrf(client.get(page).text)}, files={"workbook": (name, data)})


# --- provider A asking for B's files, findings, receipts --------------------------------

def test_provider_cannot_reach_another_providers_results_by_url(site):
    a = site.client(P1)
    assert a.get("/results/2026-11/101/annotated.xlsx").status_code == 200  # its own
    for url in [
        "/results/2026-11/201/annotated.xlsx",  # P2's invoice folder name, as if under A's
        "/results/2026-11/201/anomalies.xlsx",
        f"/results/2026-11/../{P2}/201/annotated.xlsx",
        f"/results/2026-11/..%2F{P2}%2F201%2Fannotated.xlsx",
        f"/results/2026-11/%2E%2E/%2E%2E/{P2}/201/annotated.xlsx",
        "/results/2026-11/../../finance/approval.xlsx",
        "/results/2026-11/..%2F..%2Ffinance%2Fapproval.csv",
        "/results/2026-11/../../../ledger.sqlite",
        "/results/..%2F..%2Finbox/register/decisions.xlsx",
        "/results/2026-11//etc/passwd",
    ]:
        r = a.get(url)
        assert r.status_code == 404 or r.url.path == "/results/2026-11/101/annotated.xlsx", url
        assert not r.content.startswith(b"PK") or r.url.path.endswith("/101/annotated.xlsx"), url


def test_provider_cannot_read_another_providers_receipt_or_check_copy(site, tmp_path):
    a, b = site.client(P1), site.client(P2)
    r = post_file(b, "/send", "b.xlsx", bill(tmp_path / "b.xlsx", provider=P2, invoice_no="202", decision="D-2",
                                            hetu=H2, days=(16,)).read_bytes(), page="/send")
    receipt = r.url.path
    assert receipt.startswith("/receipts/") and b.get(receipt).status_code == 200
    assert a.get(receipt).status_code == 404
    assert receipt not in a.get("/receipts").text
    checked = post_file(b, "/check", "b.xlsx", (tmp_path / "b.xlsx").read_bytes())
    copy = re.search(r'href="(/check/[^"]+/annotated.xlsx)"', checked.text).group(1)
    assert b.get(copy).status_code == 200 and a.get(copy).status_code == 404


def test_provider_cannot_see_findings_of_another_provider(site, tmp_path):
    a = site.client(P1)
    # B's workbook checked by A: refused without a finding; B's invoice's findings page is finance's only.
    r = post_file(a, "/check", "b.xlsx", bill(tmp_path / "b.xlsx", provider=P2, invoice_no="9", decision="D-2",
                                             hetu=H2, days=(2, 3, 4, 5, 6)).read_bytes())
    assert r.status_code == 403 and "R205" not in r.text
    for url in ["/finance", "/finance/2026-11", f"/finance/2026-11/invoice?provider={P2}&invoice=201",
                "/finance/2026-11/payments", "/finance/2026-11/held"]:
        assert a.get(url).status_code == 404, url
    for url in ["/finance/2026-11/signoff", "/finance/2026-11/held"]:
        assert a.post(url, data={"csrf": csrf(a.get("/check").text), "provider": P2, "invoice": "201",
                                 "answer_0": "pay"}).status_code == 404


def test_provider_cannot_send_another_providers_workbook(site, tmp_path):
    a = site.client(P1)
    before = inbox_files(site)
    r = post_file(a, "/send", "b.xlsx", bill(tmp_path / "b.xlsx", provider=P2, invoice_no="77", decision="D-2",
                                            hetu=H2).read_bytes(), page="/send")
    assert r.status_code == 403 and inbox_files(site) == before


def test_finance_pages_need_finance_and_a_session(site):
    anonymous = TestClient(site.app)
    for url in ["/check", "/send", "/results", "/receipts", "/template", "/finance", "/finance/2026-11"]:
        assert anonymous.get(url).url.path == "/signin", url
    f = site.client()
    assert f.get("/check").status_code == 404 and f.get("/results/2026-11/101/annotated.xlsx").status_code == 404
    assert f.get("/finance/2099-01").status_code == 404 and f.get("/finance/..%2F..").status_code == 404


# --- CSRF ----------------------------------------------------------------------------

POSTS = ["/signin", "/signout", "/language", "/check", "/send", "/finance/2026-11/signoff", "/finance/2026-11/held"]


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token(site, tmp_path, token):
    from starlette.routing import Route

    posted = {r.path for r in site.app.routes if isinstance(r, Route) and "POST" in (r.methods or ())}
    assert posted == {*POSTS[:5], "/finance/{batch}/signoff", "/finance/{batch}/held",
                      "/signup/{token}"}  # a new form belongs here too
    provider, finance = site.client(P1), site.client()
    name, link = site.invite(P1)
    data = {} if token is None else {"csrf": token}
    before = inbox_files(site)
    workbook = bill(tmp_path / "x.xlsx", invoice_no="555").read_bytes()
    for who, url in [(provider, u) for u in POSTS[:5]] + [(finance, u) for u in POSTS[5:]] + [
            (provider, f"/signup/{link}")]:
        fields = {**data, "name": name, "password": PASSWORD, "password2": PASSWORD, "lang": "sv",
                  "provider": P1, "invoice": "101", "answer_0": "pay"}
        files = {"workbook": ("x.xlsx", workbook)} if url in ("/check", "/send") else None
        r = who.post(url, data=fields, files=files)
        assert r.status_code == 403, url
    assert inbox_files(site) == before
    con = sqlite3.connect(site.ledger)
    assert con.execute("SELECT count(*) FROM invoices WHERE signed_off_at IS NOT NULL").fetchone() == (0,)
    assert con.execute("SELECT language FROM portal_users WHERE name = ?", (provider.name,)).fetchone() == ("fi",)
    con.close()
    assert accounts.open_accounts(site.ledger).link_user(link).name == name  # the link is still unused
    assert provider.get("/check").url.path == "/check"  # still signed in: sign-out refused too


def test_csrf_token_of_another_session_is_refused(site):
    a, b = site.client(P1), site.client(P1)
    r = a.post("/language", data={"csrf": csrf(b.get("/check").text), "lang": "en"})
    assert r.status_code == 403


# --- throttling ------------------------------------------------------------------------

def sign_in(client, name, password, address="testclient"):
    page = client.get("/signin")
    return client.post("/signin", data={"csrf": csrf(page.text), "name": name, "password": password})


def test_sixth_failed_sign_in_in_15_minutes_is_refused_even_with_the_right_password(site):
    name, token = site.invite(P1)
    accounts.open_accounts(site.ledger).use_link(token, PASSWORD)
    # Each attempt from another address, so only the account's count matters.
    for i in range(5):
        c = TestClient(site.app, client=(f"10.0.0.{i + 1}", 5000))
        assert sign_in(c, name, "wrong password!").status_code == 401
    c = TestClient(site.app, client=("10.0.1.1", 5000))
    r = sign_in(c, name, PASSWORD)
    assert r.status_code == 429 and "15" in r.text
    assert c.get("/check").url.path == "/signin"
    # 15 minutes later the account signs in again.
    later = accounts.utcnow() + dt.timedelta(minutes=16)
    assert accounts.open_accounts(site.ledger).sign_in(name, PASSWORD, "10.0.1.1", now=later).name == name


def test_sixth_failed_sign_in_from_one_address_is_refused(site):
    names = []
    for _ in range(6):
        name, token = site.invite(P1)
        accounts.open_accounts(site.ledger).use_link(token, PASSWORD)
        names.append(name)
    c = TestClient(site.app, client=("10.9.9.9", 5000))
    for name in names[:5]:
        assert sign_in(c, name, "wrong password!").status_code == 401
    assert sign_in(c, names[5], PASSWORD).status_code == 429  # another account, the same address
    other = TestClient(site.app, client=("10.9.9.10", 5000))
    assert sign_in(other, names[5], PASSWORD).url.path == "/check"


# --- cookies ---------------------------------------------------------------------------

def cookie_attributes(response) -> set[str]:
    header = response.headers["set-cookie"]
    assert header.startswith("reconcile_session=")
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]} | {
        part.strip().lower() for part in header.split(";")[1:] if part.strip().lower().startswith("samesite")}


def test_session_cookie_is_httponly_samesite_strict(site):
    page = TestClient(site.app).get("/signin")
    flags = cookie_attributes(page)
    assert {"httponly", "samesite=strict", "path", "max-age"} <= flags
    assert "secure" not in flags  # plain http on 127.0.0.1: a Secure cookie would never come back


def test_session_cookie_is_secure_behind_https(tmp_path):
    inbox, outbox = make_inbox(tmp_path)
    app = create_app(inbox, outbox, ROOT / "config", https=True, workers=1)
    c = TestClient(app, base_url="https://testserver")
    flags = cookie_attributes(c.get("/signin"))
    assert {"httponly", "secure", "samesite=strict"} <= flags


def test_security_headers(site):
    r = TestClient(site.app).get("/signin")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"


# --- sign-up links ---------------------------------------------------------------------

def test_reused_sign_up_link_is_refused(site):
    name, token = site.invite(P1)
    c = TestClient(site.app)
    page = c.get(f"/signup/{token}")
    assert c.post(f"/signup/{token}", data={"csrf": csrf(page.text), "password": PASSWORD,
                                             "password2": PASSWORD}).status_code == 200
    assert c.get(f"/signup/{token}").status_code == 410
    again = c.post(f"/signup/{token}", data={"csrf": csrf(page.text), "password": "another password 1",
                                             "password2": "another password 1"})
    assert again.status_code == 410
    assert sign_in(TestClient(site.app), name, "another password 1").status_code == 401  # not changed


def test_expired_sign_up_link_is_refused(site):
    store = accounts.open_accounts(site.ledger)
    eight_days_ago = accounts.utcnow() - dt.timedelta(days=8)
    old = store.add_user("late-comer", "provider", P1, "fi", now=eight_days_ago)
    six_days_ago = accounts.utcnow() - dt.timedelta(days=6)
    young = store.add_user("early-bird", "provider", P1, "fi", now=six_days_ago)
    c = TestClient(site.app)
    assert c.get(f"/signup/{old}").status_code == 410
    assert c.get(f"/signup/{young}").status_code == 200
    assert c.get("/signup/made-up-token").status_code == 410


# --- uploads: traversal and odd names ----------------------------------------------------

ODD_NAMES = ["../../../../tmp/evil.xlsx", "..\\..\\evil.xlsx", "/etc/passwd", "lasku marras; 2026 (1).xlsx",
             "Läsnäolo–Åbo ärende 😀.xlsx", ".lasku.xlsx", "lasku", "a" * 600 + ".xlsx", "con.xlsx",
             "x\x00y.xlsx", "x\r\nSet-Cookie: a=b.xlsx", "<script>alert(1)</script>.xlsx"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_upload_names_never_become_paths(site, tmp_path, name):
    c = site.client(P1)
    data = bill(tmp_path / "x.xlsx", invoice_no="odd", days=(23,)).read_bytes()
    before = {p for p in site.root.parent.rglob("*")}
    r = post_file(c, "/send", name, data, page="/send")
    assert r.status_code == 200 and r.url.path.startswith("/receipts/")
    assert "<script>alert" not in r.text
    new = {p for p in site.root.parent.rglob("*")} - before
    assert len(new) == 1  # one file, in the batch folder, under the portal's name
    (path,) = new
    assert path.parent == site.inbox / "2026-12" and re.fullmatch(rf"{P1}_odd_\d{{8}}T\d{{6}}Z_[0-9a-f]{{8}}\.xlsx",
                                                                 path.name)
    path.unlink()
    checked = post_file(c, "/check", name, data)
    assert checked.status_code == 200 and "<script>alert" not in checked.text


# --- hostile files -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    return hostile.write_all(tmp_path_factory.mktemp("hostile") / "files")


@pytest.mark.parametrize("case", hostile.CASES, ids=[c.name for c in hostile.CASES])
def test_hostile_files_uploaded_are_checked_safely_and_refused_when_unsafe(site, hostile_files, case):
    c = site.client(P1, lang="en")
    path = hostile_files[case.name]
    data = path.read_bytes()
    r = post_file(c, "/check", path.name, data)
    assert r.status_code in (200, 403, 413), r.text[:500]
    if case.rule:
        assert r.status_code == 413 or case.rule in r.text
    before = inbox_files(site)
    sent = post_file(c, "/send", path.name, data, page="/send")
    if case.rule:  # F001 / F002: refused with its finding, nothing written
        assert sent.status_code in (413, 422) and inbox_files(site) == before
        assert sent.status_code == 413 or case.rule in sent.text
    else:  # readable: sent when it is P1's (the base workbook is), refused otherwise
        assert sent.status_code in (200, 403)
        for p in set(inbox_files(site)) - set(before):
            p.unlink()
    assert c.get("/check").status_code == 200  # the server and the session survive


def test_upload_over_the_intake_limit_is_refused_before_reading(site):
    c = site.client(P1)
    limit = site.state.max_upload
    r = c.post("/check", data={"csrf": csrf(c.get("/check").text)},
               files={"workbook": ("big.xlsx", b"0" * (limit + 512 * 1024))})
    assert r.status_code == 413


# --- no full henkilötunnus anywhere --------------------------------------------------------

def test_no_full_henkilotunnus_in_pages_logs_or_audit(site, tmp_path, caplog):
    c = site.client(P1, lang="en")
    f = site.client()
    # A file named after a client, an invoice number that is a henkilötunnus, and a row whose
    # henkilötunnus is not the decision's (R202 names both).
    named = f"{H1}.xlsx"
    bad = bill(tmp_path / "x.xlsx", invoice_no=H2, hetu="010190A123M", days=(23,))
    pages = []
    with caplog.at_level(logging.INFO):
        r = post_file(c, "/check", named, bad.read_bytes())
        pages.append(r.text)
        assert "R202" in r.text
        r = post_file(c, "/send", named, bad.read_bytes(), page="/send")
        pages.append(r.text)
        pages.append(c.get("/receipts").text)
        pages.append(c.get("/results").text)
        pages.append(f.get("/finance/2026-11").text)
        pages.append(f.get("/finance/2026-11/invoice", params={"provider": P1, "invoice": "101"}).text)
    full = re.compile(HETU_RE.pattern, re.IGNORECASE)
    for page in pages:
        assert not full.search(page), full.search(page)
    assert "131052-****" in pages[0] or "010190-****" in pages[0]
    con = sqlite3.connect(site.ledger)
    audit = [" ".join(map(str, row)) for row in con.execute("SELECT * FROM portal_audit")]
    receipts = [" ".join(map(str, row)) for row in con.execute("SELECT * FROM portal_receipts")]
    con.close()
    assert any("check" in a for a in audit) and any(" send " in f" {a} " for a in audit)
    assert not any(full.search(a) for a in audit + receipts)
    assert not any(full.search(rec.getMessage()) for rec in caplog.records)


def test_access_log_lines_are_redacted():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", f"/finance/2026-11/invoice?invoice={H1}", "1.1", 200), None)
    RedactLog().filter(record)
    assert H1 not in record.getMessage() and "131052-****" in record.getMessage()


@pytest.mark.parametrize("back", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "javascript:x"])
def test_language_form_never_redirects_off_site(site, back):
    c = site.client(P1)
    r = c.post("/language", data={"csrf": csrf(c.get("/check").text), "lang": "fi", "back": back},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
