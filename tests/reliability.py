"""A control inbox for the reliability tests: registers and clean invoices, made at test time.

Each invoice `k` belongs to its own provider with its own two clients, so
that invoices of one batch never share a client day (no R216 among them)
and each one's findings are exactly its own. `invoice(k)` is
`wb.sample_invoice` for provider `k`: decisions `D-k-1` (meals served) and
`D-k-2`, claiming 113.60 + 150.00 = 263.60 euros, all of it approved.

    from reliability import Control
    ctl = Control(inbox, providers=12)      # writes inbox/register/*
    header, clients, attendance = ctl.invoice(3, "L-3")
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import wb
from stdnum.fi import hetu as hetu_mod, ytunnus

D = dt.date
MONTH = D(2026, 11, 1)
BATCH = "2026-11"
CLAIMED_CENTS = 26360
HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def provider_id(k: int) -> str:
    """A valid Y-tunnus, one per k (a body whose check would be 1 has none: take the next body)."""
    for body in range(2000000 + 37 * k, 2000000 + 37 * (k + 1)):
        for digit in range(10):
            if ytunnus.is_valid(f"{body}-{digit}"):
                return f"{body}-{digit}"
    raise AssertionError(k)


def client_hetu(k: int, j: int) -> str:
    """A valid henkilötunnus, one per (k, j): born 1.1.1970 + k days, individual number 2..."""
    born = D(1970, 1, 1) + dt.timedelta(days=k)
    number = 200 + j
    code = f"{born:%d%m%y}-{number:03d}"
    code += HETU_CHECK[int(f"{born:%d%m%y}{number:03d}") % 31]
    assert hetu_mod.is_valid(code), code
    return code


class Control:
    """Registers for `providers` providers, two decisions each, written under `inbox/register`."""

    def __init__(self, inbox: Path, providers: int):
        self.inbox = inbox
        self.providers = providers
        reg = inbox / "register"
        reg.mkdir(parents=True, exist_ok=True)
        wb.write_providers(reg / "providers.xlsx", [
            {"provider_id": provider_id(k), "name": f"Tuottaja {k} Oy", "approved_from": D(2025, 1, 1),
             "approved_to": None, "own_unit": "ei", "email": f"p{k}@example.fi", "lang": "fi"}
            for k in range(providers)])
        wb.write_decisions(reg / "decisions.xlsx", [
            {"decision_id": f"D-{k}-{j}", "hetu": client_hetu(k, j), "name": "Asiakas", "provider_id": provider_id(k),
             "voucher_no": f"S{k}{j}", "start": D(2026, 9, 1), "end": D(2027, 6, 30), "terminated": None,
             "days_per_week": 4, "hours_per_day_h100": 6, "day_value_cents": "50,00",
             "meal": "tuottaja" if j == 1 else "ei", "travel_per_day_cents": "0,00", "benefit": "työttömyysetuus",
             "guidance_min_h100": None, "caseworker": None, "next_step": None}
            for k in range(providers) for j in (1, 2)])

    def hetus(self) -> list[str]:
        return [client_hetu(k, j) for k in range(self.providers) for j in (1, 2)]

    def invoice(self, k: int, invoice_no: str) -> tuple[dict, list[dict], list[dict]]:
        """Provider k's clean invoice for November 2026: (header, clients, attendance)."""
        header, clients, attendance = wb.sample_invoice(MONTH, provider_id(k), invoice_no)
        header["total_cents"] = "263,60"
        for j, (client, days) in enumerate(zip(clients, attendance), 1):
            for row in (client, days):
                row["decision_id"], row["hetu"] = f"D-{k}-{j}", client_hetu(k, j)
        return header, clients, attendance

    def write(self, k: int, invoice_no: str, path: Path, **kwargs) -> Path:
        return wb.write_invoice(path, *self.invoice(k, invoice_no), **kwargs)
