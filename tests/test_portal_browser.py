"""Whole journeys through the portal in a real browser: Playwright driving Debian's Chromium against a
real uvicorn on 127.0.0.1 (an ephemeral port, in a thread).

Provider: sign-up link -> password -> sign in -> check a workbook with a mistake -> read the findings ->
download the annotated copy and open it with openpyxl -> send a corrected workbook -> receipt -> after the
batch is run, download its results. Finance: sign in -> batches -> an invoice's findings -> sign off ->
payments. Every page is saved as a screenshot in tests/output/portal/ (RECONCILE_TEST_OUTPUT overrides).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from portal_site import H1, P1, PASSWORD, ROOT, bill
from test_batch import make_registers

from reconcile import batch as batch_mod, config as config_mod
from reconcile.portal import accounts
from reconcile.portal.app import create_app

pytestmark = pytest.mark.browser

OUTPUT = Path(os.environ.get("RECONCILE_TEST_OUTPUT", ROOT / "tests" / "output")) / "portal"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The portal on a fresh inbox (registers only), served by uvicorn in a thread; yields (base URL, root)."""
    import uvicorn

    root = tmp_path_factory.mktemp("portal-browser")
    inbox, outbox = root / "inbox", root / "outbox"
    make_registers(inbox)
    app = create_app(inbox, outbox, ROOT / "config", workers=1)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    try:
        yield f"http://127.0.0.1:{port}", root
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def test_provider_journey(server, browser_page, tmp_path):
    base, root = server
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    link = accounts.invite(str(root / "outbox" / "ledger.sqlite"), "tuottaja", P1, False, "fi")

    page.goto(f"{base}/signup/{link}")
    assert page.locator("h1").inner_text() == "Aseta salasana"
    shot(page, "01_signup")
    page.get_by_label("Salasana", exact=True).fill(PASSWORD)
    page.get_by_label("Salasana uudelleen").fill(PASSWORD)
    page.get_by_role("button", name="Tallenna").click()
    assert "Salasana on asetettu" in page.content()
    shot(page, "02_password_set")

    page.get_by_label("Salasana", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_url(f"{base}/check")
    shot(page, "03_check_form")

    # Five days in the week of Mon 9 November for a four-day decision: Friday the 13th (Läsnäolo!O2) is rejected.
    wrong = bill(tmp_path / "marraskuu.xlsx", invoice_no="301", days=(9, 10, 11, 12, 13))
    page.get_by_label("Työkirja").set_input_files(str(wrong))
    page.get_by_role("button", name="Tarkasta", exact=True).click()
    table = page.locator("table.findings")
    assert table.locator("th").all_inner_texts() == ["Sääntö", "Solu", "Mikä on vialla", "Miten korjata"]
    cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells[0].startswith("R205") and cells[1] == "Läsnäolo!O2"
    assert "4" in cells[2] and cells[3]
    shot(page, "04_findings")

    with page.expect_download() as info:
        page.get_by_role("link", name="Lataa merkitty työkirja").click()
    copy = tmp_path / "annotated.xlsx"
    info.value.save_as(copy)
    wb = openpyxl.load_workbook(copy)
    assert wb.sheetnames[0] == "Tarkastus"
    assert wb["Läsnäolo"]["O2"].fill.fgColor.rgb.endswith("FFC7CE") and "R205" in wb["Läsnäolo"]["O2"].comment.text

    # The corrected workbook: four days.
    right = bill(tmp_path / "marraskuu_korjattu.xlsx", invoice_no="301", days=(9, 10, 11, 12))
    page.get_by_role("navigation").get_by_role("link", name="Lähetä lasku").click()
    shot(page, "05_send_form")
    page.get_by_label("Työkirja").set_input_files(str(right))
    page.get_by_role("button", name="Lähetä", exact=True).click()
    page.wait_for_url(re.compile(r".*/receipts/[0-9a-f]+$"))
    digest = hashlib.sha256(right.read_bytes()).hexdigest()
    receipt = page.locator("dl.receipt").inner_text()
    assert digest in receipt and "2026-11" in receipt and "marraskuu_korjattu.xlsx" in receipt
    shot(page, "06_receipt")

    # Finance runs the batch; the provider then finds its results.
    batch_mod.run_batch(root / "inbox", root / "outbox", config_mod.load(ROOT / "config"), batch="2026-11")
    page.get_by_role("navigation").get_by_role("link", name="Tulokset").click()
    shot(page, "07_results")
    with page.expect_download() as info:
        page.get_by_role("link", name="Merkitty työkirja, Lasku 301").click()
    result = tmp_path / "result.xlsx"
    info.value.save_as(result)
    review = openpyxl.load_workbook(result)["Tarkastus"]
    assert any(row[1] == "301" for row in review.iter_rows(values_only=True) if len(row) > 1)

    page.get_by_role("navigation").get_by_role("link", name="Laskupohja").click()
    shot(page, "08_template_form")
    page.get_by_label("Kieli").select_option("sv")
    page.get_by_role("button", name="Vaihda").click()
    assert page.locator("h1").inner_text() == "Fakturamall"
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.get_by_role("navigation").get_by_role("link", name="Granska faktura").click()
    shot(page, "09_phone_check_sv")


def test_finance_journey(server, browser_page, tmp_path):
    """Finance: resolve two held days (pay one, reject the other with a reason), sign off, see the payment."""
    from test_batch import D, write_bill

    base, root = server
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    # Two invoices of P1 bill the same client (D-1) on Wed 2 December: R216 holds that day on both.
    (root / "inbox" / "2026-12").mkdir(exist_ok=True)
    write_bill(root / "inbox" / "2026-12" / "a.xlsx", P1, "501", D(2026, 12, 1), "D-1", H1, [1, 2])
    write_bill(root / "inbox" / "2026-12" / "b.xlsx", P1, "502", D(2026, 12, 1), "D-1", H1, [2])
    batch_mod.run_batch(root / "inbox", root / "outbox", config_mod.load(ROOT / "config"), batch="2026-12")
    link = accounts.invite(str(root / "outbox" / "ledger.sqlite"), "talous", None, True, "en")
    page.goto(f"{base}/signup/{link}")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/finance")
    shot(page, "10_finance_batches")
    page.get_by_role("link", name="Batch 2026-12").click()
    totals = page.locator("table.totals").first.inner_text()
    # 501: day 1 paid (50.00), day 2 held (50.00); 502: its one day held.
    assert "partly approved\t1\t€100.00\t€50.00\t€50.00\t€0.00" in totals
    assert "held\t1\t€50.00\t€0.00\t€50.00\t€0.00" in totals
    shot(page, "11_finance_batch")

    page.get_by_role("link", name="Held days").click()
    shot(page, "12_held_days")
    rows = page.locator("table.held tbody tr")
    assert rows.count() == 2
    for i in range(2):
        row = rows.nth(i)
        number = row.locator("td").nth(1).inner_text()
        if number == "501":
            row.locator("select").select_option("pay")
        else:
            row.locator("select").select_option("reject")
            row.locator("input").fill("Billed twice; paid on invoice 501.")
    page.get_by_role("button", name="Record the answers").click()
    assert "2 answer(s) recorded." in page.content()
    assert page.locator("table.held tbody tr").nth(0).locator("strong").count() == 1
    shot(page, "13_held_days_resolved")

    page.get_by_role("link", name="Batch 2026-12").click()
    page.get_by_role("link", name="501").click()
    shot(page, "14_finance_invoice")
    page.get_by_role("button", name="Sign off").click()
    assert "Invoice 501 is signed off." in page.content()
    assert "Signed off by talous" in page.content()
    shot(page, "15_signed_off")
    page.get_by_role("link", name="Batch 2026-12").click()
    page.get_by_role("link", name="Payments").click()
    payment = page.locator("table tbody tr").first.inner_text()
    assert "501" in payment and "invoice" in payment and "€100.00" in payment and "talous" in payment
    shot(page, "16_payments")
