"""The shared ledger (CONTRACT.md section 5, version 2): PostgreSQL beside SQLite, end to end.

The same batches give byte-identical outputs on both backends; `ledger copy`
moves a ledger between them and checks it; one writer at a time, held by the
database, while readers go on; every fault is exit 3 in one plain sentence
with nothing recorded; the program runs with a runtime role that may only
read and write rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import event
from ledgers import dump, rows

from reconcile import ledger as ledger_mod
from reconcile.cli import main
from reconcile.ledger import connect, store

ROOT = Path(__file__).resolve().parents[1]
SOCKET = "/var/run/postgresql"

pytestmark = pytest.mark.postgres


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [*args], env=env)


def run(inbox: Path, outbox: Path, ledger: str, *more: str, env: dict | None = None):
    return invoke("run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
                  "--ledger", ledger, *more, env=env)


def outputs(folder: Path) -> dict[str, str]:
    """Every output file of a batch folder by sha256, the manifest by content without its times."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            files[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    data = json.loads((folder / "audit" / "manifest.json").read_text(encoding="utf-8"))
    del data["started"], data["finished"]
    files["audit/manifest.json"] = json.dumps(data, sort_keys=True)
    return files


def admin(sql: str, *params, dbname: str = "postgres") -> list[tuple]:
    with psycopg.connect(host=SOCKET, dbname=dbname, autocommit=True) as conn:
        cur = conn.execute(sql, params or None)
        return cur.fetchall() if cur.description else []


def database(url: str) -> str:
    return connect.parse(url).url.database


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory) -> Path:
    """A small realistic inbox of two batches; the second re-bills paid days (R217) and resends an invoice (F007)."""
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    r = invoke("demo", "--inbox", str(inbox), "--config", str(ROOT / "config"), "--providers", "5", "--clients", "90",
               "--batches", "2026-10..2026-11", "--anomalies", "0.15", "--seed", "13")
    assert r.exit_code == 0, r.output
    return inbox


# --- the same on both backends ---------------------------------------------------


@pytest.mark.slow
def test_outputs_are_byte_identical_on_sqlite_and_postgresql(demo_inbox, tmp_path, pg_url):
    lite = str(tmp_path / "ledger.sqlite")
    for batch in ("2026-10", "2026-11"):
        for outbox, ledger in ((tmp_path / "lite", lite), (tmp_path / "pg", pg_url)):
            r = run(demo_inbox, outbox, ledger, "--batch", batch)
            assert r.exit_code == 0, r.output
        assert outputs(tmp_path / "pg" / batch) == outputs(tmp_path / "lite" / batch)
    findings = (tmp_path / "pg" / "2026-11" / "audit" / "findings.csv").read_text(encoding="utf-8")
    assert ",R217," in findings and ",F007," in findings  # the history was read, on both
    assert dump(pg_url) == dump(lite)
    assert len(dump(lite)["days"]) > 500


@pytest.mark.slow
def test_ledger_copy_sqlite_to_postgresql_and_back(demo_inbox, tmp_path, pg_url):
    lite = str(tmp_path / "ledger.sqlite")
    assert run(demo_inbox, tmp_path / "out", lite, "--batch", "2026-10").exit_code == 0
    with ledger_mod.open_ledger(lite) as book:
        invoice = book.history("").invoices.row(0, named=True)
        book.approve("2026-10", invoice["invoice_no"], invoice["provider_id"], "maija")
    r = invoke("ledger", "copy", lite, pg_url)
    assert r.exit_code == 0, r.output
    assert "Checked equal:" in r.stdout and " paid and " in r.stdout
    assert dump(pg_url) == dump(lite)
    assert rows(pg_url, "SELECT signed_off_by FROM invoices WHERE signed_off_by IS NOT NULL") == [("maija",)]
    # Hand-counted figures the copy must have checked: the source's own sums.
    (claimed,) = rows(lite, "SELECT sum(claimed_cents) FROM invoices")[0]
    assert f"claimed {claimed // 100}.{claimed % 100:02d}" in r.stdout

    back = str(tmp_path / "back.sqlite")
    assert invoke("ledger", "copy", pg_url, back).exit_code == 0
    assert dump(back) == dump(lite)
    assert rows(back, "SELECT * FROM runs") == rows(lite, "SELECT * FROM runs")

    # A target holding records is refused and left as it was.
    before = dump(pg_url)
    r = invoke("ledger", "copy", lite, pg_url)
    assert r.exit_code == 3 and "is not empty" in r.stderr and "Traceback" not in r.output
    assert dump(pg_url) == before

    # The next batch on the copy gives what it gives on the original.
    assert run(demo_inbox, tmp_path / "o1", lite, "--batch", "2026-11").exit_code == 0
    assert run(demo_inbox, tmp_path / "o2", pg_url, "--batch", "2026-11").exit_code == 0
    assert outputs(tmp_path / "o2" / "2026-11") == outputs(tmp_path / "o1" / "2026-11")


def test_ledger_copy_into_a_migrated_empty_database_and_refusals(tmp_path, pg_url):
    lite = str(tmp_path / "empty.sqlite")
    assert invoke("ledger", "migrate", pg_url).stdout.startswith("Created the ledger")
    assert "is up to date" in invoke("ledger", "migrate", pg_url).stdout
    assert invoke("ledger", "migrate", lite).exit_code == 0
    assert invoke("ledger", "copy", lite, pg_url).exit_code == 0  # empty tables are an empty ledger
    r = invoke("ledger", "copy", lite, lite)
    assert r.exit_code == 3 and "same ledger" in r.stderr
    r = invoke("ledger", "copy", str(tmp_path / "none.sqlite"), pg_url)
    assert r.exit_code == 3 and "does not exist" in r.stderr


# --- one writer, many readers ------------------------------------------------------


def spawn(inbox: Path, outbox: Path, ledger: str, pause: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "run", "--inbox", str(inbox), "--outbox", str(outbox),
         "--config", str(ROOT / "config"), "--ledger", ledger],
        env={**os.environ, "RECONCILE_TEST_PAUSE_AT": pause}, stderr=subprocess.PIPE, text=True,
    )
    assert f"paused at {pause}" in proc.stderr.readline()
    return proc


def lock_sessions(url: str) -> list[tuple]:
    return admin("SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                 "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s", database(url))


@pytest.mark.slow
def test_a_second_writer_in_another_process_exits_4_while_readers_go_on(demo_inbox, tmp_path, pg_url):
    assert run(demo_inbox, tmp_path / "first", pg_url, "--batch", "2026-10").exit_code == 0
    before = dump(pg_url)
    holder = spawn(demo_inbox, tmp_path / "a", pg_url, "ledger")  # 2026-11 staged, about to record
    try:
        # Another outbox, the same database: the lock is the database's, not a file's.
        r = run(demo_inbox, tmp_path / "b", pg_url, "--batch", "2026-11")
        assert r.exit_code == 4, r.output
        assert "holds the lock on the ledger" in r.stderr and "`reconcile run --batch 2026-11`" in r.stderr
        assert f"pid {holder.pid} on " in r.stderr
        assert not (tmp_path / "b" / "2026-11").exists()
        invoice = rows(pg_url, "SELECT invoice_no, provider_id FROM invoices ORDER BY 1, 2")[0]
        r = invoke("approve", "--outbox", str(tmp_path / "b"), "--config", str(ROOT / "config"), "--ledger", pg_url,
                   "--batch", "2026-10", "--invoice", invoice[0], "--provider", invoice[1])
        assert r.exit_code == 4 and f"pid {holder.pid}" in r.stderr
        # A reader is not held up: check sees the ledger (the resent invoice is a duplicate of a recorded one).
        (name,) = rows(pg_url, "SELECT min(source_file) FROM invoices WHERE batch = '2026-10'")[0]
        resent = demo_inbox / "2026-10" / name
        r = invoke("check", "--inbox", str(demo_inbox), "--config", str(ROOT / "config"), "--ledger", pg_url, str(resent))
        assert r.exit_code in (0, 1) and "F007" in r.stdout, r.output
        assert dump(pg_url) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The killed holder's connection ended, and with it the lock (the server notices within moments).
    for _ in range(100):
        if not lock_sessions(pg_url):
            break
        subprocess.run(["sleep", "0.1"], check=True)
    assert lock_sessions(pg_url) == []
    r = run(demo_inbox, tmp_path / "b", pg_url, "--batch", "2026-11")
    assert r.exit_code == 0, r.output
    assert dump(pg_url) != before


# --- faults: exit 3, one plain sentence, nothing recorded ----------------------------------


@pytest.fixture
def roles(pg_url):
    """Two login roles with passwords, dropped afterwards: (owner, runtime, password)."""
    tag = uuid.uuid4().hex[:8]
    owner, runtime, password = f"reconcile_owner_{tag}", f"reconcile_app_{tag}", f"pw-{tag}"
    admin(f'CREATE ROLE "{owner}" LOGIN PASSWORD \'{password}\'')
    admin(f'CREATE ROLE "{runtime}" LOGIN PASSWORD \'{password}\'')
    try:
        yield owner, runtime, password
    finally:
        db = database(pg_url)
        admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN (%s, %s)", owner, runtime)
        admin(f'REASSIGN OWNED BY "{owner}", "{runtime}" TO CURRENT_USER', dbname=db)
        for role in (owner, runtime):  # one at a time: together they trip over the shared default ACL
            admin(f'DROP OWNED BY "{role}"', dbname=db)
        admin(f'DROP ROLE "{owner}"')
        admin(f'DROP ROLE "{runtime}"')


def tcp_url(role: str, db: str, password: str | None = None, port: int = 5432) -> str:
    auth = f"{role}:{password}" if password else role
    return f"postgresql://{auth}@127.0.0.1:{port}/{db}"


@pytest.mark.parametrize("fault", ["unreachable", "wrong_password", "foreign", "newer"])
def test_faults_exit_3_in_one_sentence_and_record_nothing(demo_inbox, tmp_path, pg_url, roles, fault):
    owner, _, password = roles
    db = database(pg_url)
    url = pg_url
    if fault == "unreachable":
        url = tcp_url(owner, db, password, port=1)  # nothing listens on port 1
    elif fault == "wrong_password":
        url = tcp_url(owner, db, "not-" + password)
    elif fault == "foreign":
        rows(pg_url, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    else:
        assert run(demo_inbox, tmp_path / "earlier", pg_url, "--batch", "2026-10").exit_code == 0
        rows(pg_url, "UPDATE schema_version SET version = 99")
    before = admin("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", dbname=db)
    content = dump(pg_url) if fault == "newer" else None
    r = run(demo_inbox, tmp_path / "out", url, "--batch", "2026-11")
    assert r.exit_code == 3, r.output
    message = r.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in r.output
    assert {"unreachable": "Cannot use the ledger postgresql://", "wrong_password": "password authentication failed",
            "foreign": "is not a reconcile ledger", "newer": "newer than this program knows"}[fault] in message
    assert password not in r.output
    if fault in ("unreachable", "wrong_password"):
        assert f"postgresql://{owner}@127.0.0.1:" in message
    assert not (tmp_path / "out" / "2026-11").exists()
    assert admin("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
                 dbname=db) == before
    if content is not None:
        assert dump(pg_url) == content


@pytest.mark.parametrize("point", ["invoices", "days"])
def test_connection_killed_in_the_middle_of_recording(demo_inbox, tmp_path, pg_url, monkeypatch, point):
    """pg_terminate_backend from another connection in the middle of recording: exit 3, nothing recorded."""
    assert run(demo_inbox, tmp_path / "out", pg_url, "--batch", "2026-10").exit_code == 0
    before, files = dump(pg_url), outputs(tmp_path / "out" / "2026-10")
    make_engine = connect.engine
    killed = []

    def engine(where, readonly):
        eng = make_engine(where, readonly)

        @event.listens_for(eng, "before_cursor_execute")
        def kill(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("INSERT INTO invoices") and not killed:  # after the batch's old record went
                killed.append(cursor.connection.info.backend_pid)
                admin("SELECT pg_terminate_backend(%s)", killed[0])

        return eng

    insert_many = store.Ledger.insert_many

    def copy_after_kill(self, conn, table, rows):  # the days go by COPY: kill just before it
        if table.name == "days" and not killed:
            killed.append(conn.connection.dbapi_connection.info.backend_pid)
            admin("SELECT pg_terminate_backend(%s)", killed[0])
        return insert_many(self, conn, table, rows)

    if point == "invoices":
        monkeypatch.setattr(connect, "engine", engine)
    else:
        monkeypatch.setattr(store.Ledger, "insert_many", copy_after_kill)
    r = run(demo_inbox, tmp_path / "out", pg_url, "--batch", "2026-10")
    assert killed, f"the run never reached the {point}"
    assert r.exit_code == 3, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert "connection to the ledger" in r.stderr and "Nothing of this command was recorded" in r.stderr
    assert dump(pg_url) == before
    assert outputs(tmp_path / "out" / "2026-10") == files
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".2026")) == []


# --- roles: an owner that migrates, a runtime role that only reads and writes rows ---------------


def test_the_program_runs_with_the_runtime_role(demo_inbox, tmp_path, pg_url, roles):
    owner, runtime, password = roles
    db = database(pg_url)
    env = {"PGPASSWORD": password}  # the password from the environment, as libpq reads it
    # The runtime role cannot create the tables: told to ask the owner, exit 3.
    admin(f'ALTER DATABASE "{db}" OWNER TO "{owner}"')
    admin(f'GRANT CONNECT ON DATABASE "{db}" TO "{runtime}"')
    r = run(demo_inbox, tmp_path / "out", tcp_url(runtime, db), "--batch", "2026-10", env=env)
    assert r.exit_code == 3 and "reconcile ledger migrate" in r.stderr, r.output
    # The README's setup: the owner creates the tables, then grants the runtime role its rights.
    r = invoke("ledger", "migrate", tcp_url(owner, db), env=env)
    assert r.exit_code == 0, r.output
    for grant in GRANTS:
        admin(grant.format(owner=owner, runtime=runtime), dbname=db)
    for batch in ("2026-10", "2026-11"):
        r = run(demo_inbox, tmp_path / "out", tcp_url(runtime, db), "--batch", batch, env=env)
        assert r.exit_code == 0, r.output
    assert rows(pg_url, "SELECT count(*) FROM runs") == [(2,)]
    assert rows(pg_url, "SELECT tableowner FROM pg_tables WHERE tablename = 'days'") == [(owner,)]
    # ... and may not change the schema or read what the grants leave out.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with psycopg.connect(host="127.0.0.1", dbname=db, user=runtime, password=password) as conn:
            conn.execute("DROP TABLE days")


GRANTS = (  # as in the README's "A shared ledger in PostgreSQL"
    'GRANT USAGE ON SCHEMA public TO "{runtime}"',
    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{runtime}"',
    'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{runtime}"',
)
