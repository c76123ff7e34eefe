"""A small portal site for tests: registers of two providers, batch 2026-11 run, accounts on demand.

    P1 (Yksi Oy) bills decision D-1 (client H1) as invoice 101; P2 (Kaksi Oy) bills D-2 (H2) as 201.
    Both decisions: 4 days a week, 50.00 a day, no meals or travel.

`Site.client(...)` gives a Starlette TestClient signed in as a new account;
`csrf(html)` the form token of a page.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.testclient import TestClient
from test_batch import D, H1, H2, P1, P2, ROOT, make_registers, write_bill

from reconcile import batch as batch_mod, config as config_mod
from reconcile.portal import accounts

PASSWORD = "correct horse battery staple"

# Argon2 with its production cost takes 0.7 s a hash on the test machine; the tests sign in hundreds of
# times, so they hash with the same algorithm (argon2id) at the lowest cost. Production keeps the defaults.
from argon2 import PasswordHasher  # noqa: E402

accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf(html: str) -> str:
    return CSRF_RE.search(html).group(1)


def text_of(html: str) -> str:
    """A page's visible text, tags removed and white space collapsed."""
    import html as html_mod

    return re.sub(r"\s+", " ", html_mod.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def make_inbox(root: Path, ledger: str | None = None) -> tuple[Path, Path]:
    """inbox/ with registers and batch 2026-11 (invoices 101 of P1 and 201 of P2), and that batch run."""
    inbox, outbox = root / "inbox", root / "outbox"
    make_registers(inbox)
    (inbox / "2026-11").mkdir()
    write_bill(inbox / "2026-11" / "yksi.xlsx", P1, "101", D(2026, 11, 1), "D-1", H1, [2, 3, 4])
    write_bill(inbox / "2026-11" / "kaksi.xlsx", P2, "201", D(2026, 11, 1), "D-2", H2, [2])
    batch_mod.run_batch(inbox, outbox, config_mod.load(ROOT / "config"), batch="2026-11", ledger=ledger)
    return inbox, outbox


@dataclass
class Site:
    root: Path
    inbox: Path
    outbox: Path
    app: object
    ledger_url: str | None = None

    @property
    def ledger(self) -> str:
        return self.ledger_url or str(self.outbox / "ledger.sqlite")

    @property
    def state(self):
        return self.app.state.portal

    def invite(self, provider_id: str | None = None, lang: str = "fi") -> tuple[str, str]:
        """A new account (name, token): a provider's for `provider_id`, else finance."""
        name = f"user-{secrets.token_hex(4)}"
        return name, accounts.invite(self.ledger, name, provider_id, provider_id is None, lang)

    def client(self, provider_id: str | None = None, lang: str = "fi", base_url: str = "http://testserver"
               ) -> TestClient:
        """A client signed in as a new account (sign-up link, password, sign-in)."""
        name, token = self.invite(provider_id, lang)
        c = TestClient(self.app, base_url=base_url)
        page = c.get(f"/signup/{token}")
        page = c.post(f"/signup/{token}", data={"csrf": csrf(page.text), "password": PASSWORD, "password2": PASSWORD})
        r = c.post("/signin", data={"csrf": csrf(page.text), "name": name, "password": PASSWORD})
        assert r.status_code == 200 and "/signin" not in str(r.url), r.text
        c.name = name
        return c


def bill(path: Path, provider: str = P1, invoice_no: str = "102", days=(9, 10, 11, 12, 13), hetu: str = H1,
         decision: str = "D-1") -> Path:
    """An invoice of November 2026 for one decision (X on `days`)."""
    return write_bill(path, provider, invoice_no, D(2026, 11, 1), decision, hetu, list(days))


__all__ = ["Site", "make_inbox", "csrf", "text_of", "bill", "PASSWORD", "P1", "P2", "H1", "H2", "ROOT"]
