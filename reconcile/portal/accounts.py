"""The portal's accounts, one-time links, sign-in throttling, receipts and audit log, in the ledger's database.

Tables (declared with the ledger's others in `reconcile.ledger.schema`, version 3), reached only
through `reconcile.ledger.open_ledger(...).transaction()`:

    portal_users      name (the login), role provider/finance, provider_id, language,
                      Argon2 password hash (empty until the sign-up link is used)
    portal_links      one-time sign-up links: only the sha256 of the token is kept;
                      valid 7 days, used once
    portal_failures   failed sign-ins by account and by address (throttling)
    portal_receipts   what a provider sent to a batch: time, portal name, sha256
    portal_audit      who did what when: file names and sha256, never a henkilötunnus
    portal_settings   the session-signing secret

Passwords are hashed with argon2-cffi's `PasswordHasher` (its defaults, RFC
9106's low-memory profile). A sign-in is refused without checking the
password when the account or the address has had `MAX_FAILURES` failures in
the last `WINDOW`: the 6th attempt in 15 minutes fails even with the right
password. Every text written to the audit log passes `messages.redact`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reconcile.ledger import open_ledger, schema
from reconcile.text.messages import redact

LINK_DAYS = 7
MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
ROLES = ("provider", "finance")
LANGS = ("fi", "sv", "en")

_hasher = PasswordHasher()


USER_CACHE_SECONDS = 5  # a request's account is looked up at most this often (a new password ends sessions within it)


def _iso(t: dt.datetime, timespec: str = "seconds") -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    provider_id: str | None
    language: str
    stamp: str  # changes when the password changes: a session from before it is no longer valid

    @property
    def is_finance(self) -> bool:
        return self.role == "finance"


class AccountError(Exception):
    """A refused account operation; `key` names the message shown to the person."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _user(row) -> User:
    stamp = hashlib.sha256((row.password_hash or "").encode()).hexdigest()[:16]
    return User(row.id, row.name, row.role, row.provider_id, row.language, stamp)


class Accounts:
    """The portal's tables in the ledger at `where`. Every method is one short transaction.

    Reads open the ledger read-only (no write lock); writes open it for writing.
    """

    def __init__(self, where: str):
        self.where = where
        self.t = {"users": schema.portal_users, "links": schema.portal_links, "failures": schema.portal_failures,
                  "receipts": schema.portal_receipts, "audit": schema.portal_audit,
                  "settings": schema.portal_settings}
        self._cache: dict[str, tuple[float, User | None]] = {}
        self._cache_lock = threading.Lock()

    @contextlib.contextmanager
    def _tx(self, write: bool = False) -> Iterator[sa.Connection]:
        with open_ledger(self.where, readonly=not write) as book, book.transaction() as conn:
            yield conn

    # Accounts and links

    def add_user(self, name: str, role: str, provider_id: str | None, language: str = "fi",
                 now: dt.datetime | None = None) -> str:
        """Create the account (or, for an existing one of the same role, void its links) and return a new
        one-time token, valid `LINK_DAYS` days. Only the token's sha256 is stored."""
        if role not in ROLES:
            raise ValueError(role)
        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        users, links = self.t["users"], self.t["links"]
        with self._tx(write=True) as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
            if row is None:
                uid = secrets.token_hex(12)
                conn.execute(users.insert().values(
                    id=uid, name=name, role=role, provider_id=provider_id, language=language, password_hash="",
                    created_at=_iso(now)))
            else:
                if row.role != role or (row.provider_id or None) != (provider_id or None):
                    raise AccountError("account_exists_other")
                uid = row.id
                conn.execute(links.update().where(links.c.user_id == uid, links.c.used_at.is_(None))
                             .values(used_at=_iso(now)))
            conn.execute(links.insert().values(token_sha256=token_hash(token), user_id=uid,
                                               expires_at=_iso(now + dt.timedelta(days=LINK_DAYS))))
        return token

    def link_user(self, token: str, now: dt.datetime | None = None) -> User:
        """The account of a valid link; AccountError('link_invalid') when unknown, used or expired."""
        now = now or utcnow()
        users, links = self.t["users"], self.t["links"]
        with self._tx() as conn:
            row = conn.execute(sa.select(links, users).join(users, users.c.id == links.c.user_id)
                               .where(links.c.token_sha256 == token_hash(token))).first()
        if row is None or row.used_at is not None or _parse(row.expires_at) <= now:
            raise AccountError("link_invalid")
        return _user(row)

    def use_link(self, token: str, password: str, now: dt.datetime | None = None) -> User:
        """Set the password of the link's account and spend the link, in one transaction."""
        now = now or utcnow()
        users, links = self.t["users"], self.t["links"]
        with self._tx(write=True) as conn:
            row = conn.execute(sa.select(links).where(links.c.token_sha256 == token_hash(token))).first()
            if row is None or row.used_at is not None or _parse(row.expires_at) <= now:
                raise AccountError("link_invalid")
            spent = conn.execute(links.update().where(links.c.token_sha256 == row.token_sha256,
                                                      links.c.used_at.is_(None)).values(used_at=_iso(now)))
            if spent.rowcount != 1:  # used by a concurrent request
                raise AccountError("link_invalid")
            conn.execute(users.update().where(users.c.id == row.user_id)
                         .values(password_hash=_hasher.hash(password)))
            user = conn.execute(sa.select(users).where(users.c.id == row.user_id)).first()
        self._forget(user.id)
        return _user(user)

    def get(self, user_id: str) -> User | None:
        """The account, looked up at most every USER_CACHE_SECONDS."""
        now = time.monotonic()
        with self._cache_lock:
            kept = self._cache.get(user_id)
        if kept and kept[0] > now:
            return kept[1]
        users = self.t["users"]
        with self._tx() as conn:
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        user = _user(row) if row else None
        with self._cache_lock:
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[user_id] = (now + USER_CACHE_SECONDS, user)
        return user

    def _forget(self, user_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(user_id, None)

    def set_language(self, user_id: str, language: str) -> None:
        users = self.t["users"]
        if language in LANGS:
            with self._tx(write=True) as conn:
                conn.execute(users.update().where(users.c.id == user_id).values(language=language))
            self._forget(user_id)

    # Signing in

    def throttled(self, account: str, address: str, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        failures = self.t["failures"]
        since = _iso(now - WINDOW)
        with self._tx() as conn:
            by_account = conn.execute(sa.select(sa.func.count()).select_from(failures).where(
                failures.c.account == account, failures.c.at > since)).scalar_one()
            by_address = conn.execute(sa.select(sa.func.count()).select_from(failures).where(
                failures.c.address == address, failures.c.at > since)).scalar_one()
        return by_account >= MAX_FAILURES or by_address >= MAX_FAILURES

    def sign_in(self, name: str, password: str, address: str, now: dt.datetime | None = None) -> User:
        """The account when the password is right; AccountError('throttled' or 'bad_credentials') if not.

        A throttled attempt is refused before the password is looked at, and counts as a failure too.
        """
        now = now or utcnow()
        users, failures = self.t["users"], self.t["failures"]
        throttled = self.throttled(name, address, now)
        row = None
        if not throttled:
            with self._tx() as conn:
                row = conn.execute(sa.select(users).where(users.c.name == name)).first()
            ok = False
            if row is not None and row.password_hash:
                try:
                    ok = _hasher.verify(row.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
            else:
                _hasher.hash(password)  # about the same time whether the account exists or not
            if ok:
                if _hasher.check_needs_rehash(row.password_hash):
                    with self._tx(write=True) as conn:
                        conn.execute(users.update().where(users.c.id == row.id)
                                     .values(password_hash=_hasher.hash(password)))
                    with self._tx() as conn:
                        row = conn.execute(sa.select(users).where(users.c.id == row.id)).first()
                return _user(row)
        with self._tx(write=True) as conn:
            conn.execute(failures.insert().values(id=secrets.token_hex(12), account=name[:200], address=address[:100],
                                                  at=_iso(now)))
            conn.execute(failures.delete().where(failures.c.at < _iso(now - 4 * WINDOW)))
        raise AccountError("throttled" if throttled else "bad_credentials")

    # Receipts and audit

    def add_receipt(self, user: User, batch: str, file_name: str, original_name: str, sha256: str, size: int,
                    invoice_no: str | None, at: dt.datetime) -> str:
        receipt_id = secrets.token_hex(12)
        with self._tx(write=True) as conn:
            conn.execute(self.t["receipts"].insert().values(
                id=receipt_id, user_id=user.id, provider_id=user.provider_id, batch=batch, file_name=file_name,
                original_name=redact(original_name)[:400], sha256=sha256, size=size,
                invoice_no=redact(invoice_no or "")[:200], at=_iso(at)))
        return receipt_id

    def receipt(self, receipt_id: str, provider_id: str | None):
        """The receipt if it is this provider's, else None (another provider's is as good as absent)."""
        receipts = self.t["receipts"]
        with self._tx() as conn:
            return conn.execute(sa.select(receipts).where(receipts.c.id == receipt_id,
                                                          receipts.c.provider_id == provider_id)).first()

    def receipts(self, provider_id: str | None) -> list:
        receipts = self.t["receipts"]
        with self._tx() as conn:
            return list(conn.execute(sa.select(receipts).where(receipts.c.provider_id == provider_id)
                                     .order_by(receipts.c.at.desc(), receipts.c.id)))

    def audit(self, who: str, action: str, detail: str = "", address: str = "",
              now: dt.datetime | None = None) -> None:
        with self._tx(write=True) as conn:
            conn.execute(self.t["audit"].insert().values(
                at=_iso(now or utcnow(), "microseconds"), id=secrets.token_hex(6), who=redact(who)[:200], address=address[:100], action=action,
                detail=redact(detail)))

    def audit_log(self) -> list:
        audit = self.t["audit"]
        with self._tx() as conn:
            return list(conn.execute(sa.select(audit).order_by(audit.c.at, audit.c.id)))

    def secret(self) -> str:
        """The session-signing secret, made once and kept in the database."""
        settings = self.t["settings"]
        with self._tx(write=True) as conn:
            row = conn.execute(sa.select(settings.c.value).where(settings.c.name == "session_secret")).first()
            if row:
                return row[0]
            value = secrets.token_urlsafe(48)
            conn.execute(settings.insert().values(name="session_secret", value=value))
            return value


def open_accounts(ledger: str) -> Accounts:
    """The portal's tables in the ledger's database: the ledger is created or migrated (version 3) first."""
    with open_ledger(ledger):
        pass
    return Accounts(ledger)


def invite(ledger: str, name: str, provider_id: str | None, finance: bool, language: str = "fi") -> str:
    """`reconcile users add`: create the account (or renew its link) and return the one-time token.

    Raises UsageError for a bad name or Y-tunnus, or a name taken by an account of another kind.
    """
    from stdnum.fi import ytunnus

    from reconcile.errors import UsageError

    name = name.strip()
    if not name or len(name) > 200 or any(not c.isprintable() for c in name):
        raise UsageError("NAME must be 1 to 200 printable characters.")
    if finance == bool(provider_id):
        raise UsageError("Give either --provider Y-TUNNUS NAME or --finance NAME.")
    if provider_id:
        if not ytunnus.is_valid(provider_id.strip()):
            raise UsageError(f"{provider_id!r} is not a valid Y-tunnus.")
        provider_id = ytunnus.compact(provider_id.strip())
        provider_id = f"{provider_id[:7]}-{provider_id[7:]}"
    try:
        return open_accounts(ledger).add_user(name, "finance" if finance else "provider", provider_id, language)
    except AccountError:
        raise UsageError(f"The account {name!r} already exists as another kind of account.",
                         "Choose another name.") from None
