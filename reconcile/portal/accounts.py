"""The portal's accounts, one-time links, sign-in throttling, receipts and audit log, in the ledger's database.

Tables (SQLAlchemy Core, on the MetaData given to `tables`):

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

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reconcile.text.messages import redact

LINK_DAYS = 7
MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
ROLES = ("provider", "finance")
LANGS = ("fi", "sv", "en")

_hasher = PasswordHasher()


def tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Declare the portal's tables on `metadata` (the ledger's one MetaData)."""
    t = {}
    t["users"] = sa.Table(
        "portal_users", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("provider_id", sa.String(20)),
        sa.Column("language", sa.String(2), nullable=False, server_default="fi"),
        sa.Column("password_hash", sa.String(400), nullable=False, server_default=""),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.CheckConstraint("role IN ('provider', 'finance')", name="portal_users_role"),
    )
    t["links"] = sa.Table(
        "portal_links", metadata,
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("portal_users.id"), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("used_at", sa.String(40)),
    )
    t["failures"] = sa.Table(
        "portal_failures", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False, index=True),
    )
    t["receipts"] = sa.Table(
        "portal_receipts", metadata,
        sa.Column("id", sa.String(32), primary_key=True),  # random: not guessable, and checked anyway
        sa.Column("user_id", sa.Integer, sa.ForeignKey("portal_users.id"), nullable=False),
        sa.Column("provider_id", sa.String(20), nullable=False, index=True),
        sa.Column("batch", sa.String(7), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("original_name", sa.String(400), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("invoice_no", sa.String(200)),
        sa.Column("at", sa.String(40), nullable=False),
    )
    t["audit"] = sa.Table(
        "portal_audit", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("address", sa.String(100), nullable=False, server_default=""),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    t["settings"] = sa.Table(
        "portal_settings", metadata,
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(400), nullable=False),
    )
    return t


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
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
    """The portal's tables on one engine. Every method is one short transaction."""

    def __init__(self, engine: sa.Engine, t: dict[str, sa.Table]):
        self.engine = engine
        self.t = t

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
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
            if row is None:
                uid = conn.execute(users.insert().values(
                    name=name, role=role, provider_id=provider_id, language=language, password_hash="",
                    created_at=_iso(now))).inserted_primary_key[0]
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
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(links, users).join(users, users.c.id == links.c.user_id)
                               .where(links.c.token_sha256 == token_hash(token))).first()
        if row is None or row.used_at is not None or _parse(row.expires_at) <= now:
            raise AccountError("link_invalid")
        return _user(row)

    def use_link(self, token: str, password: str, now: dt.datetime | None = None) -> User:
        """Set the password of the link's account and spend the link, in one transaction."""
        now = now or utcnow()
        users, links = self.t["users"], self.t["links"]
        with self.engine.begin() as conn:
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
        return _user(user)

    def get(self, user_id: int) -> User | None:
        users = self.t["users"]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def set_language(self, user_id: int, language: str) -> None:
        users = self.t["users"]
        if language in LANGS:
            with self.engine.begin() as conn:
                conn.execute(users.update().where(users.c.id == user_id).values(language=language))

    # Signing in

    def throttled(self, account: str, address: str, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        failures = self.t["failures"]
        since = _iso(now - WINDOW)
        with self.engine.connect() as conn:
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
            with self.engine.connect() as conn:
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
                    with self.engine.begin() as conn:
                        conn.execute(users.update().where(users.c.id == row.id)
                                     .values(password_hash=_hasher.hash(password)))
                    with self.engine.connect() as conn:
                        row = conn.execute(sa.select(users).where(users.c.id == row.id)).first()
                return _user(row)
        with self.engine.begin() as conn:
            conn.execute(failures.insert().values(account=name[:200], address=address[:100], at=_iso(now)))
            conn.execute(failures.delete().where(failures.c.at < _iso(now - 4 * WINDOW)))
        raise AccountError("throttled" if throttled else "bad_credentials")

    # Receipts and audit

    def add_receipt(self, user: User, batch: str, file_name: str, original_name: str, sha256: str, size: int,
                    invoice_no: str | None, at: dt.datetime) -> str:
        receipt_id = secrets.token_hex(12)
        with self.engine.begin() as conn:
            conn.execute(self.t["receipts"].insert().values(
                id=receipt_id, user_id=user.id, provider_id=user.provider_id, batch=batch, file_name=file_name,
                original_name=redact(original_name)[:400], sha256=sha256, size=size,
                invoice_no=redact(invoice_no or "")[:200], at=_iso(at)))
        return receipt_id

    def receipt(self, receipt_id: str, provider_id: str | None):
        """The receipt if it is this provider's, else None (another provider's is as good as absent)."""
        receipts = self.t["receipts"]
        with self.engine.connect() as conn:
            return conn.execute(sa.select(receipts).where(receipts.c.id == receipt_id,
                                                          receipts.c.provider_id == provider_id)).first()

    def receipts(self, provider_id: str | None) -> list:
        receipts = self.t["receipts"]
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(receipts).where(receipts.c.provider_id == provider_id)
                                     .order_by(receipts.c.at.desc(), receipts.c.id)))

    def audit(self, who: str, action: str, detail: str = "", address: str = "",
              now: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.t["audit"].insert().values(
                at=_iso(now or utcnow()), who=redact(who)[:200], address=address[:100], action=action,
                detail=redact(detail)))

    def audit_log(self) -> list:
        audit = self.t["audit"]
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(audit).order_by(audit.c.id)))

    def secret(self) -> str:
        """The session-signing secret, made once and kept in the database."""
        settings = self.t["settings"]
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(settings.c.value).where(settings.c.name == "session_secret")).first()
            if row:
                return row[0]
            value = secrets.token_urlsafe(48)
            conn.execute(settings.insert().values(name="session_secret", value=value))
            return value


def open_accounts(ledger: str) -> Accounts:
    """The portal's tables in the ledger's database, created on first use.

    The ledger is opened (created or migrated) first through `reconcile.ledger`,
    so a new database becomes a ledger before the portal adds its tables.
    """
    from reconcile.ledger import store as ledger_mod

    with ledger_mod.open_ledger(ledger):
        pass
    path = ledger_mod.ledger_path(ledger)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    metadata = sa.MetaData()
    t = tables(metadata)
    metadata.create_all(engine)
    return Accounts(engine, t)


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
