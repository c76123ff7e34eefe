"""The web portal (CONTRACT.md section 10): providers check, send and fetch; finance reviews and signs off.

Starlette with Jinja2 templates, served by uvicorn (`reconcile serve`). Pages
are rendered on the server and every form works without JavaScript.

Security, each point enforced here on every request:
- sessions are Starlette's signed cookies (itsdangerous), HttpOnly,
  SameSite=Strict, Secure when `https` is on (behind the city's proxy), 8 hours;
  the session names the account and a stamp of its password hash, so a new
  password ends older sessions;
- every form carries the session's CSRF token; a POST without it, or with a
  wrong one, is refused (403) before anything else is read;
- a provider sees only its own files, findings and receipts: every batch,
  path and id in a URL is checked against what belongs to that provider, and
  anything else is "not found"; finance pages refuse providers;
- uploads are limited to intake's `max_uncompressed_mib`, saved under a name
  of the portal's own (the sender's file name is only shown, never used as a
  path) and checked in worker processes (`pool`);
- a workbook is sent to a batch only when its Y-tunnus is the sender's own;
- every value a template prints passes `messages.redact`, so no page shows a
  full henkilötunnus; the audit log and the access log are redacted the same way.

Sending: the workbook goes to the open batch of its billed month: that month,
or, when that month's batch (or a later one) has already been run, the month
after the newest batch run. It is written atomically (a temporary file in
`inbox/.portal-incoming/`, fsync, rename) while the portal holds the outbox's
lock, so a run never sees half a file and a batch that has been run takes no
more files.

Finance: a sign-off is `resolve.finance.approve_invoice` and answers on held
days go to `resolve.finance.resolve_batch` (as an answers CSV), the very code
of `reconcile approve` and `reconcile resolve`, under the same locks.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hmac
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from reconcile import config as config_mod, lock
from reconcile.batch import BATCH_RE
from reconcile.errors import LockHeld, ReconcileError
from reconcile import ledger as ledger_mod
from reconcile.ledger import schema
from reconcile.portal import texts
from reconcile.portal.accounts import LANGS, AccountError, Accounts, User, open_accounts
from reconcile.portal.pool import Busy, CheckPool
from reconcile.service import CheckOutcome
from reconcile.text import messages
from reconcile.write import make_dirs
from reconcile.write.xlsxutil import safe_name

HERE = Path(__file__).parent
SESSION_COOKIE = "reconcile_session"
SESSION_SECONDS = 8 * 3600
ANNOTATED_SECONDS = 600
KEPT_BYTES = 256 * 1024 * 1024  # uploads kept in memory for their annotated copy, all users together
MIN_PASSWORD = 12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUSES = ("approved", "partly_approved", "held", "rejected", "duplicate")


def _finalize(value: object) -> object:
    """Every printed value: a henkilötunnus is shortened to its birth date."""
    return messages.redact(value) if isinstance(value, str) else value


def _euros(cents: int | None, lang: str) -> str:
    return messages.euros(cents, lang)


@dataclass
class Portal:
    inbox: Path
    outbox: Path
    config_dir: Path
    ledger: str
    accounts: Accounts
    pool: CheckPool
    config: object = None  # reconcile.config.Config
    https: bool = False
    max_upload: int = 50 * 1024 * 1024
    # token -> (user id, until, file name, the uploaded bytes): a checked workbook waits here, in memory only,
    # for the download of its annotated copy
    annotated: dict[str, tuple[str, float, str, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep_annotated(self, user: User, name: str, data: bytes) -> str:
        token = secrets.token_urlsafe(18)
        now = time.monotonic()
        with self.lock:
            for key in [k for k, v in self.annotated.items() if v[1] < now]:
                del self.annotated[key]
            # Memory bound: the oldest go first when the kept uploads would pass KEPT_BYTES.
            while self.annotated and sum(len(v[3]) for v in self.annotated.values()) + len(data) > KEPT_BYTES:
                del self.annotated[next(iter(self.annotated))]
            self.annotated[token] = (user.id, now + ANNOTATED_SECONDS, name, data)
        return token


# --- requests: who, language, CSRF ------------------------------------------------

def portal(request: Request) -> Portal:
    return request.app.state.portal


async def current_user(request: Request) -> User | None:
    uid = request.session.get("uid")
    if not isinstance(uid, str):
        return None
    user = await run_in_threadpool(portal(request).accounts.get, uid)
    if user is None or request.session.get("stamp") != user.stamp:
        request.session.clear()
        return None
    return user


def language(request: Request, user: User | None = None) -> str:
    if user is not None and user.language in LANGS:
        return user.language
    lang = request.session.get("lang")
    if lang in LANGS:
        return lang
    header = request.headers.get("accept-language", "")[:2].lower()
    return header if header in LANGS else "fi"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request, max_files: int = 0):
    """The posted form, after its CSRF token matched the session's; 403 otherwise."""
    if max_files:
        limit = portal(request).max_upload + 256 * 1024
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411)
        if int(length) > limit:
            raise HTTPException(413)
    form = await request.form(max_files=max_files, max_fields=20)
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403)
    return form


def address(request: Request) -> str:
    return request.client.host if request.client else ""


async def audit(request: Request, who: User | str | None, action: str, detail: str = "") -> None:
    """A line of the audit log, written off the event loop."""
    name = who.name if isinstance(who, User) else (who or "")
    await run_in_threadpool(portal(request).accounts.audit, name, action, detail, address(request))


def render(request: Request, page: str, user: User | None, status_code: int = 200, **context) -> Response:
    lang = language(request, user)
    context.update(request=request, user=user, lang=lang, csrf=csrf_token(request), langs=texts.LANG_NAMES,
                   t=lambda key, **v: texts.t(key, lang, **v), eur=lambda c: _euros(c, lang),
                   status_word=lambda s: messages.status(s, lang), label=lambda k: messages.label(k, lang))
    return request.app.state.templates.TemplateResponse(request, page, context, status_code=status_code)


def message_page(request: Request, user: User | None, key: str, status_code: int = 200, **values) -> Response:
    lang = language(request, user)
    return render(request, "message.html", user, status_code=status_code, text=texts.t(key, lang, **values))


async def need(request: Request, role: str) -> User:
    user = await current_user(request)
    if user is None:
        raise HTTPException(303, headers={"location": "/signin"})
    if user.role != role:
        raise HTTPException(404)
    return user


# --- signing up, in and out ------------------------------------------------------

async def home(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return RedirectResponse("/signin", 303)
    return RedirectResponse("/finance" if user.is_finance else "/check", 303)


async def signin(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "signin.html", await current_user(request))
    form = await checked_form(request)
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    p = portal(request)
    try:
        user = await run_in_threadpool(p.accounts.sign_in, name, password, address(request))
    except AccountError as e:
        await audit(request, name, "sign_in_refused", e.key)
        return render(request, "signin.html", None, status_code=429 if e.key == "throttled" else 401,
                      error=texts.t(e.key, language(request)), name=name)
    request.session.clear()  # a new session on every sign-in: nothing carried over from before
    request.session.update(uid=user.id, stamp=user.stamp, csrf=secrets.token_urlsafe(32))
    await audit(request, user, "sign_in")
    return RedirectResponse("/", 303)


async def signout(request: Request) -> Response:
    await checked_form(request)
    user = await current_user(request)
    if user:
        await audit(request, user, "sign_out")
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/signin", 303)


async def signup(request: Request) -> Response:
    token = request.path_params["token"]
    p = portal(request)
    try:
        account = await run_in_threadpool(p.accounts.link_user, token)
    except AccountError:
        return message_page(request, None, "link_invalid", 410)
    request.session.setdefault("lang", account.language)  # the language finance chose for the person, until changed
    if request.method == "GET":
        return render(request, "signup.html", None, account=account)
    form = await checked_form(request)
    password, again = str(form.get("password") or ""), str(form.get("password2") or "")
    error = None
    if len(password) < MIN_PASSWORD:
        error = "password_short"
    elif password != again:
        error = "password_mismatch"
    if error:
        return render(request, "signup.html", None, status_code=400, account=account,
                      error=texts.t(error, language(request)))
    try:
        user = await run_in_threadpool(p.accounts.use_link, token, password)
    except AccountError:
        return message_page(request, None, "link_invalid", 410)
    await audit(request, user, "password_set")
    return render(request, "signin.html", None, notice=texts.t("password_set", language(request)), name=user.name)


async def set_language(request: Request) -> Response:
    form = await checked_form(request)
    lang = str(form.get("lang") or "")
    if lang in LANGS:
        request.session["lang"] = lang
        user = await current_user(request)
        if user:
            await run_in_threadpool(portal(request).accounts.set_language, user.id, lang)
    back = str(form.get("back") or "/")
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back and "://" not in back
    return RedirectResponse(back if local else "/", 303)


# --- provider: check, send, receipts, results, templates ---------------------------

def _display_name(upload: UploadFile) -> str:
    """The sender's file name, for showing only: no folders, no control characters, at most 200 characters."""
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())
    return name[:200] or "upload.xlsx"


@contextlib.contextmanager
def _saved(upload: UploadFile):
    """The upload in a private temporary folder, under a fixed name of ours."""
    with tempfile.TemporaryDirectory(prefix="reconcile-portal-") as tmp:
        path = Path(tmp) / "upload.xlsx"
        with path.open("wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        yield path


async def _upload(request: Request) -> tuple[UploadFile | None, Response | None]:
    user = await current_user(request)
    form = await checked_form(request, max_files=1)
    upload = form.get("workbook")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, message_page(request, user, "no_file", 400)
    if upload.size is not None and upload.size > portal(request).max_upload:
        return None, message_page(request, user, "too_big", 413, mib=portal(request).max_upload // (1024 * 1024))
    return upload, None


async def _run_check(request: Request, user: User, path: Path, name: str, annotated: bool
                     ) -> tuple[CheckOutcome | None, Response | None]:
    lang = language(request, user)
    try:
        return await portal(request).pool.check(path, name, lang, annotated), None
    except Busy:
        return None, message_page(request, user, "busy", 503)
    except ReconcileError as e:
        return None, message_page(request, user, "failed", 503, reason=str(e))


def _not_yours(request: Request, user: User, out: CheckOutcome) -> Response:
    found = out.provider_id or messages.label("unknown", language(request, user))
    return message_page(request, user, "not_yours", 403, found=found, own=user.provider_id)


async def check_page(request: Request) -> Response:
    try:
        return await _check_page(request)
    finally:
        await request.close()  # the upload's temporary file goes now, not when garbage is collected


async def _check_page(request: Request) -> Response:
    user = await need(request, "provider")
    if request.method == "GET":
        return render(request, "check.html", user)
    upload, refused = await _upload(request)
    if refused:
        return refused
    name = _display_name(upload)
    with _saved(upload) as path:
        out, failed = await _run_check(request, user, path, name, annotated=False)
        if failed:
            return failed
        await audit(request, user, "check", f"file={name} sha256={out.sha256}")
        if out.provider_id and out.provider_id != user.provider_id:
            return _not_yours(request, user, out)
        # The annotated copy is made only when asked for: the upload waits in memory for it.
        token = portal(request).keep_annotated(user, name, path.read_bytes()) if not out.whole_file_rejected else None
    return render(request, "check_result.html", user, out=out, token=token)


async def annotated_copy(request: Request) -> Response:
    user = await need(request, "provider")
    p = portal(request)
    with p.lock:
        kept = p.annotated.get(request.path_params["token"])
    if kept is None or kept[0] != user.id or kept[1] < time.monotonic():
        raise HTTPException(404)
    with tempfile.TemporaryDirectory(prefix="reconcile-portal-") as tmp:
        path = Path(tmp) / "upload.xlsx"
        path.write_bytes(kept[3])
        out, failed = await _run_check(request, user, path, kept[2], annotated=True)
    if failed:
        return failed
    if out.annotated is None:
        raise HTTPException(404)
    stem = safe_name(Path(kept[2]).stem)
    return Response(out.annotated, media_type=XLSX,
                    headers={"content-disposition": f'attachment; filename="{stem}_annotated.xlsx"'})


def _month_after(batch: str) -> str:
    year, month = int(batch[:4]), int(batch[5:7])
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def _has_run(p: Portal, batch: str) -> bool:
    if (p.outbox / batch).is_dir():
        return True
    with ledger_mod.open_ledger(p.ledger, readonly=True) as book:
        return book.recorded(batch) is not None


def open_batch(p: Portal, billing_month: str | None, today: dt.date | None = None) -> str:
    """The batch a workbook sent now goes to: its billed month, or the month after the newest batch run."""
    start = billing_month or (today or dt.date.today()).strftime("%Y-%m")
    run = sorted(d.name for d in p.outbox.iterdir() if d.is_dir() and BATCH_RE.match(d.name)) if p.outbox.is_dir() else []
    if run and run[-1] >= start:
        start = _month_after(run[-1])
    while _has_run(p, start):
        start = _month_after(start)
    return start


def _deliver(p: Portal, source: Path, user: User, out: CheckOutcome) -> tuple[str, str, dt.datetime]:
    """Write the workbook into its open batch, atomically, under the outbox's lock; (batch, name, time)."""
    make_dirs(p.outbox)
    with lock.hold(p.outbox / ".reconcile.lock", "reconcile serve (receiving an invoice)", f"the outbox {p.outbox}"):
        batch = open_batch(p, out.billing_month)
        now = dt.datetime.now(dt.timezone.utc)
        name = (f"{safe_name(user.provider_id)}_{safe_name(out.invoice_no)[:60]}_"
                f"{now:%Y%m%dT%H%M%SZ}_{out.sha256[:8]}.xlsx")
        incoming = p.inbox / ".portal-incoming"
        make_dirs(incoming)
        make_dirs(p.inbox / batch)
        fd, tmp = tempfile.mkstemp(dir=incoming, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as f, source.open("rb") as src:
                shutil.copyfileobj(src, f, 1024 * 1024)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o640)
            target = p.inbox / batch / name
            if target.exists():
                raise FileExistsError(target)
            os.rename(tmp, target)
            dfd = os.open(p.inbox / batch, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return batch, name, now


async def send_page(request: Request) -> Response:
    try:
        return await _send_page(request)
    finally:
        await request.close()  # the upload's temporary file goes now, not when garbage is collected


async def _send_page(request: Request) -> Response:
    user = await need(request, "provider")
    if request.method == "GET":
        return render(request, "send.html", user)
    upload, refused = await _upload(request)
    if refused:
        return refused
    name = _display_name(upload)
    p = portal(request)
    with _saved(upload) as path:
        out, failed = await _run_check(request, user, path, name, annotated=False)
        if failed:
            return failed
        if out.refused:
            await audit(request, user, "send_refused", f"file={name} sha256={out.sha256} rule={out.refused.rule}")
            return render(request, "send.html", user, status_code=422, refused=out.refused)
        if out.provider_id != user.provider_id:
            await audit(request, user, "send_refused", f"file={name} sha256={out.sha256} not_own")
            return _not_yours(request, user, out)
        try:
            batch, stored, when = await run_in_threadpool(_deliver, p, path, user, out)
        except LockHeld:
            return message_page(request, user, "locked", 503)
    receipt = await run_in_threadpool(p.accounts.add_receipt, user, batch, stored, name, out.sha256, out.size,
                                      out.invoice_no, when)
    await audit(request, user, "send", f"batch={batch} file={stored} original={name} sha256={out.sha256}")
    return RedirectResponse(f"/receipts/{receipt}", 303)


async def receipts_page(request: Request) -> Response:
    user = await need(request, "provider")
    return render(request, "receipts.html", user, receipts=await run_in_threadpool(portal(request).accounts.receipts, user.provider_id))


async def receipt_page(request: Request) -> Response:
    user = await need(request, "provider")
    row = await run_in_threadpool(portal(request).accounts.receipt, request.path_params["rid"], user.provider_id)
    if row is None:
        raise HTTPException(404)
    return render(request, "receipt.html", user, r=row)


def own_files(p: Portal, provider_id: str | None, batch: str) -> list[str]:
    """The provider's own result files of a batch, relative to its folder (nothing when there is none)."""
    if not provider_id or not BATCH_RE.match(batch):
        return []
    root = p.outbox / batch / "providers" / safe_name(provider_id)
    if not root.is_dir() or root.is_symlink():
        return []
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for n in sorted(names):
            full = Path(folder) / n
            if n.endswith(".xlsx") and full.is_file() and not full.is_symlink():
                files.append(full.relative_to(root).as_posix())
    return files


def own_batches(p: Portal, provider_id: str | None) -> list[str]:
    if not p.outbox.is_dir():
        return []
    return sorted((d.name for d in p.outbox.iterdir() if BATCH_RE.match(d.name) and own_files(p, provider_id, d.name)),
                  reverse=True)


async def results_page(request: Request) -> Response:
    user = await need(request, "provider")
    p = portal(request)
    lang = language(request, user)
    batches = []
    for b in own_batches(p, user.provider_id):
        groups: dict[str, list[tuple[str, str]]] = {}
        for rel in own_files(p, user.provider_id, b):
            folder, _, name = rel.rpartition("/")
            title = texts.t(f"file_{name}", lang) if f"file_{name}" in texts.TEXTS else name
            groups.setdefault(folder, []).append((rel, title))
        batches.append((b, groups))
    return render(request, "results.html", user, batches=batches)


async def result_file(request: Request) -> Response:
    user = await need(request, "provider")
    p = portal(request)
    batch, rel = request.path_params["batch"], request.path_params["path"]
    if rel not in own_files(p, user.provider_id, batch):  # only a file listed for this provider, exactly
        raise HTTPException(404)
    await audit(request, user, "download", f"batch={batch} file={rel}")
    path = p.outbox / batch / "providers" / safe_name(user.provider_id) / rel
    return FileResponse(path, media_type=XLSX, filename=f"{batch}_{rel.replace('/', '_')}")


async def template_page(request: Request) -> Response:
    user = await need(request, "provider")
    month = request.query_params.get("month")
    if month is None:
        return render(request, "template.html", user, month=dt.date.today().strftime("%Y-%m"))
    if not BATCH_RE.match(month):
        return render(request, "template.html", user, status_code=400, month="",
                      error=texts.t("bad_month", language(request, user)))
    lang = language(request, user)
    try:
        data = await portal(request).pool.template(user.provider_id, dt.date(int(month[:4]), int(month[5:]), 1), lang)
    except Busy:
        return message_page(request, user, "busy", 503)
    except ReconcileError as e:
        return render(request, "template.html", user, status_code=422, month=month,
                      error=texts.t("template_failed", lang, reason=str(e)))
    await audit(request, user, "template", f"month={month}")
    return Response(data, media_type=XLSX, headers={
        "content-disposition": f'attachment; filename="{safe_name(user.provider_id)}_{month}.xlsx"'})


# --- finance ----------------------------------------------------------------------

def _cents(text: str) -> int:
    return int(Decimal(text or "0") * 100)


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _batch_or_404(p: Portal, batch: str) -> Path:
    if not BATCH_RE.match(batch) or not (p.outbox / batch / "finance" / "approval.csv").is_file():
        raise HTTPException(404)
    return p.outbox / batch


def _signed_off(p: Portal, batch: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(provider, invoice) -> (who, when) of the batch's signed-off invoices."""
    import sqlalchemy as sa

    inv = schema.invoices
    with ledger_mod.open_ledger(p.ledger, readonly=True) as book, book.transaction() as conn:
        rows = conn.execute(sa.select(inv.c.provider_id, inv.c.invoice_no, inv.c.signed_off_by, inv.c.signed_off_at)
                            .where(inv.c.batch == batch, inv.c.signed_off_at.is_not(None))).all()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def _totals(rows: list[dict[str, str]]) -> list[dict]:
    out = []
    for status in STATUSES:
        mine = [r for r in rows if r["status"] == status]
        out.append({"status": status, "count": len(mine),
                    **{k: sum(_cents(r[f"{k}_eur"]) for r in mine) for k in ("claimed", "approved", "held", "rejected")}})
    return out


async def finance_home(request: Request) -> Response:
    user = await need(request, "finance")
    p = portal(request)
    batches = []
    if p.outbox.is_dir():
        for d in sorted(p.outbox.iterdir(), reverse=True):
            if BATCH_RE.match(d.name) and (d / "finance" / "approval.csv").is_file():
                rows = _read_csv(d / "finance" / "approval.csv")
                batches.append({"batch": d.name, "invoices": len(rows), "totals": _totals(rows)})
    return render(request, "finance_home.html", user, batches=batches)


async def finance_batch(request: Request) -> Response:
    user = await need(request, "finance")
    p = portal(request)
    batch = request.path_params["batch"]
    folder = _batch_or_404(p, batch)
    rows = _read_csv(folder / "finance" / "approval.csv")
    signed = await run_in_threadpool(_signed_off, p, batch)
    return render(request, "finance_batch.html", user, batch=batch, rows=rows, totals=_totals(rows), signed=signed,
                  cents=_cents)


async def finance_invoice(request: Request) -> Response:
    user = await need(request, "finance")
    p = portal(request)
    batch = request.path_params["batch"]
    folder = _batch_or_404(p, batch)
    provider = request.query_params.get("provider", "")
    number = request.query_params.get("invoice", "")
    source = request.query_params.get("file", "")
    rows = [r for r in _read_csv(folder / "finance" / "approval.csv")
            if r["provider_id"] == provider and r["invoice_no"] == number and (not source or r["source_file"] == source)]
    if not rows:
        raise HTTPException(404)
    row = rows[0]
    found = [f for f in _read_csv(folder / "audit" / "findings.csv")
             if f["provider_id"] == provider and f["invoice_no"] == number and f["source_file"] == row["source_file"]]
    signed = (await run_in_threadpool(_signed_off, p, batch)).get((provider, number))
    return render(request, "finance_invoice.html", user, batch=batch, row=row, findings=found, signed=signed,
                  cents=_cents, notice=request.query_params.get("done"))


async def finance_signoff(request: Request) -> Response:
    """Sign an invoice off as `reconcile approve` does (`resolve.finance.approve_invoice`): ledger, payment row,
    outbox, under the outbox's and the ledger's locks."""
    from reconcile.resolve import finance

    user = await need(request, "finance")
    p = portal(request)
    batch = request.path_params["batch"]
    form = await checked_form(request)
    _batch_or_404(p, batch)
    provider, number = str(form.get("provider") or ""), str(form.get("invoice") or "")
    lang = language(request, user)
    try:
        done = await run_in_threadpool(finance.approve_invoice, p.inbox, p.outbox, p.config, batch, number,
                                       provider or None, p.ledger, user.name)
    except LockHeld:
        return message_page(request, user, "locked", 503)
    except ReconcileError as e:
        return message_page(request, user, "sign_off_failed", 409, reason=str(e))
    paid = done.payment["amount_cents"] if done.payment else 0
    await audit(request, user, "sign_off", f"batch={batch} provider={done.provider_id} invoice={done.invoice_no} "
                                           f"payment_cents={paid}{' (again)' if done.already else ''}")
    key = "sign_off_already" if done.already and done.payment is None else "sign_off_done"
    from urllib.parse import urlencode

    query = urlencode({"provider": done.provider_id, "invoice": done.invoice_no,
                       "done": texts.t(key, lang, invoice=done.invoice_no)})
    return RedirectResponse(f"/finance/{batch}/invoice?{query}", 303)


async def finance_payments(request: Request) -> Response:
    user = await need(request, "finance")
    folder = _batch_or_404(portal(request), request.path_params["batch"])
    rows = _read_csv(folder / "finance" / "payments.csv")
    return render(request, "finance_payments.html", user, batch=folder.name, rows=rows, cents=_cents)


def _held_days(p: Portal, batch: str) -> list[dict]:
    """The batch's held days as its approval.xlsx lists them (with any answer already given)."""
    from reconcile.resolve.answers import read_answers

    path = p.outbox / batch / "finance" / "approval.xlsx"
    out = []
    for i, a in enumerate(read_answers(path) if path.is_file() else []):
        out.append({"i": i, "provider_id": a.provider_id, "invoice_no": a.invoice_no, "decision_id": a.decision_id,
                    "date": a.date.isoformat() if a.date else "", "resolution": a.resolution, "reason": a.reason})
    return out


async def finance_held(request: Request) -> Response:
    """Held days: pay or reject, with a reason (CONTRACT.md section 7), by the code of `reconcile resolve`.

    The form's answers become the rows of an answers CSV (the header `reconcile resolve --file` reads)
    given to `resolve.finance.resolve_batch`: the same rules, refusals, outbox rewrite and ledger record.
    """
    from reconcile.resolve import finance
    from reconcile.resolve.answers import CSV_COLUMNS

    user = await need(request, "finance")
    p = portal(request)
    batch = request.path_params["batch"]
    _batch_or_404(p, batch)
    lang = language(request, user)
    outcome = None
    if request.method == "POST":
        form = await checked_form(request)
        held = {str(d["i"]): d for d in await run_in_threadpool(_held_days, p, batch)}
        lines = []
        for i, day in held.items():
            answer = str(form.get(f"answer_{i}") or "")
            if answer in ("pay", "reject") and not day["resolution"]:
                lines.append({"provider_id": day["provider_id"], "invoice_no": day["invoice_no"],
                              "decision_id": day["decision_id"], "date": day["date"], "resolution": answer,
                              "reason": str(form.get(f"reason_{i}") or "").strip()})
        if lines:
            with tempfile.TemporaryDirectory(prefix="reconcile-answers-") as tmp:
                answers = Path(tmp) / "answers.csv"
                with answers.open("w", encoding="utf-8", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
                    writer.writeheader()
                    writer.writerows(lines)
                try:
                    done = await run_in_threadpool(finance.resolve_batch, p.inbox, p.outbox, p.config, batch,
                                                   answers, p.ledger, user.name)
                except LockHeld:
                    return message_page(request, user, "locked", 503)
                except ReconcileError as e:
                    return message_page(request, user, "resolve_failed", 409, reason=str(e))
            outcome = {"taken": len(done.taken), "refused": [messages.redact(r.reason) for r in done.refused]}
            await audit(request, user, "resolve", f"batch={batch} taken={len(done.taken)} refused={len(done.refused)}")
    days = await run_in_threadpool(_held_days, p, batch)
    return render(request, "finance_held.html", user, batch=batch, days=days, outcome=outcome,
                  answer_word=lambda a: texts.t(f"answer_{a}", lang) if a else "")


# --- the application --------------------------------------------------------------

async def not_found(request: Request, exc: HTTPException) -> Response:
    user = await current_user(request)
    if exc.status_code in (301, 302, 303, 307) and exc.headers:
        return RedirectResponse(exc.headers["location"], exc.status_code)
    key = {403: "forbidden", 404: "not_found", 413: "too_big", 411: "no_file"}.get(exc.status_code, "not_found")
    values = {"mib": portal(request).max_upload // (1024 * 1024)} if key == "too_big" else {}
    return message_page(request, user, key, exc.status_code, **values)


class SecurityHeaders:
    """Headers on every response: no framing, no sniffing, same-origin resources only, no caching of pages."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "no-referrer")
                headers.setdefault("content-security-policy",
                                   "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
                headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(inbox: Path, outbox: Path, config_dir: Path, ledger: str | None = None, https: bool = False,
               workers: int | None = None, queue: int = 64) -> Starlette:
    """The portal on these folders. `ledger` as for the commands (default: config's, else <outbox>/ledger.sqlite)."""
    cfg = config_mod.load(config_dir)
    where = ledger_mod.location(cfg.ledger, outbox, ledger)
    accounts = open_accounts(where)
    pool = CheckPool(inbox, config_dir, where, workers=workers or min(2, os.cpu_count() or 1), queue=queue)
    state = Portal(Path(inbox), Path(outbox), Path(config_dir), where, accounts, pool, config=cfg, https=https,
                   max_upload=cfg.limits.max_uncompressed_mib * 1024 * 1024)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             finalize=_finalize)
    templates = Jinja2Templates(env=env)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(pool.start)
        try:
            yield
        finally:
            await run_in_threadpool(pool.close)

    routes = [
        Route("/", home),
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/signup/{token}", signup, methods=["GET", "POST"]),
        Route("/language", set_language, methods=["POST"]),
        Route("/check", check_page, methods=["GET", "POST"]),
        Route("/check/{token}/annotated.xlsx", annotated_copy),
        Route("/send", send_page, methods=["GET", "POST"]),
        Route("/receipts", receipts_page),
        Route("/receipts/{rid}", receipt_page),
        Route("/results", results_page),
        Route("/results/{batch}/{path:path}", result_file),
        Route("/template", template_page),
        Route("/finance", finance_home),
        Route("/finance/{batch}", finance_batch),
        Route("/finance/{batch}/invoice", finance_invoice),
        Route("/finance/{batch}/signoff", finance_signoff, methods=["POST"]),
        Route("/finance/{batch}/payments", finance_payments),
        Route("/finance/{batch}/held", finance_held, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=accounts.secret(), session_cookie=SESSION_COOKIE,
                   max_age=SESSION_SECONDS, same_site="strict", https_only=https),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: not_found})
    app.state.portal = state
    app.state.templates = templates
    return app


class RedactLog(logging.Filter):
    """Log lines never carry a full henkilötunnus (an invoice number or file name in a URL might)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = messages.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(messages.redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def serve(inbox: Path, outbox: Path, config_dir: Path, host: str = "127.0.0.1", port: int = 8000,
          ledger: str | None = None, https: bool = False, workers: int | None = None) -> None:
    """Run the portal with uvicorn until interrupted. Behind an https proxy on this machine, `https` trusts its
    X-Forwarded-For/-Proto headers (from 127.0.0.1 only) and marks the session cookie Secure."""
    import uvicorn

    app = create_app(inbox, outbox, config_dir, ledger, https=https, workers=workers)
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=https, forwarded_allow_ips="127.0.0.1",
                            server_header=False, log_level="info")
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(RedactLog())
    uvicorn.Server(config).run()
