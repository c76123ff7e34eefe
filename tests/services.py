"""Fixtures for the tests that use real outside components: PostgreSQL and
Chromium (through Playwright). `scripts/services` installs and starts them;
loaded as a plugin by tests/conftest.py.

Fixtures:
  pg_admin_url     (session)  SQLAlchemy URL of the `postgres` database as a superuser;
                              skips with the reason when no server answers.
  pg_url           (function) postgresql:// URL of a fresh empty database, dropped after.
                              (fresh_database(): the same as a context manager, for a second one.)
  chromium_browser (session)  a Playwright Browser on /usr/bin/chromium, headless.
  browser_page     (function) a Page in a fresh BrowserContext, closed after.
Helper:
  serve(directory)            context manager: a local HTTP server on 127.0.0.1, yields its base URL.

A test using pg_admin_url/pg_url is marked `postgres`, one using
chromium_browser/browser_page is marked `browser` (automatically, and it may
say so itself too). Under CI=true a skipped `postgres` or `browser` test fails
the session: CI must not go green without them.
"""
from __future__ import annotations

import contextlib
import functools
import getpass
import http.server
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Iterator

import pytest

PG_SOCKET_DIR = "/var/run/postgresql"
CHROMIUM = "/usr/bin/chromium"
SERVICE_MARKERS = ("postgres", "browser")
_FIXTURE_MARKERS = {
    "pg_admin_url": "postgres",
    "pg_url": "postgres",
    "chromium_browser": "browser",
    "browser_page": "browser",
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


# --- markers and the CI guard ------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a running PostgreSQL server (scripts/services)")
    config.addinivalue_line("markers", "browser: needs Chromium driven by Playwright (scripts/services)")
    # One guard per config, so a pytester run inside a test keeps its own count.
    config.pluginmanager.register(_CIGuard(), "reconcile-services-ci-guard")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = _FIXTURE_MARKERS.get(fixture)
            if marker and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


class _CIGuard:
    """Counts skipped `postgres`/`browser` tests; under CI=true they fail the session."""

    def __init__(self) -> None:
        self.skips: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        marks = [m for m in SERVICE_MARKERS if m in report.keywords]
        if marks:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.removeprefix("Skipped: ")
            self.skips.append(f"{report.nodeid} [{', '.join(marks)}]: {reason}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if _in_ci() and self.skips and session.exitstatus in (pytest.ExitCode.OK,
                                                              pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            if session.config.pluginmanager.get_plugin("terminalreporter") is None:
                print(_ci_message(self.skips), file=sys.stderr)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if _in_ci() and self.skips:
            terminalreporter.write_sep("=", "CI=true: service tests were skipped", red=True, bold=True)
            terminalreporter.write_line(_ci_message(self.skips))


def _ci_message(skips: list[str]) -> str:
    return (f"FAILED: {len(skips)} test(s) marked postgres/browser were skipped under CI=true; "
            "run scripts/services (as root) so PostgreSQL and Chromium are there:\n  "
            + "\n  ".join(skips))


# --- PostgreSQL --------------------------------------------------------------

def _pg_user() -> str:
    return getpass.getuser()


def _pg_connect(dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(host=PG_SOCKET_DIR, dbname=dbname, user=_pg_user(),
                           connect_timeout=3, autocommit=True)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """`postgresql+psycopg://<user>@/postgres?host=/var/run/postgresql`, a superuser
    connection to the maintenance database; skips when no server answers."""
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        pytest.skip(f"PostgreSQL not running: psycopg is not installed ({e})")
    try:
        with _pg_connect() as conn:
            conn.execute("SELECT 1")
    except Exception as e:  # psycopg.OperationalError and friends
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        pytest.skip(f"PostgreSQL not running: {reason} (run scripts/services as root)")
    return f"postgresql+psycopg://{_pg_user()}@/postgres?host={PG_SOCKET_DIR}"


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """Creates a uniquely named empty database and yields its
    `postgresql://<user>@/<db>?host=/var/run/postgresql` URL; afterwards ends
    its connections and drops it. Needs a server (use after pg_admin_url)."""
    from psycopg import sql

    name = f"reconcile_test_{uuid.uuid4().hex[:16]}"
    with _pg_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql://{_pg_user()}@/{name}?host={PG_SOCKET_DIR}"
    finally:
        with _pg_connect() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """`postgresql://<user>@/<db>?host=/var/run/postgresql` of a fresh empty
    database of this test's own, dropped (its connections ended) afterwards."""
    with fresh_database() as url:
        yield url


# --- Chromium through Playwright ----------------------------------------------

@pytest.fixture(scope="session")
def chromium_browser():
    """A headless Playwright Browser running Debian's /usr/bin/chromium (Playwright's
    own browser download is never used)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        pytest.skip(f"Playwright is not installed: {e}")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not installed: no {CHROMIUM} (run scripts/services as root)")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--headless=new"])
    except Exception:
        pw.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


@pytest.fixture
def browser_page(chromium_browser):
    """A fresh Page in its own BrowserContext (no cookies or storage shared between tests)."""
    context = chromium_browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


# --- a local HTTP server -----------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: str | os.PathLike) -> Iterator[str]:
    """Serves `directory` over HTTP on 127.0.0.1 at an ephemeral port from a thread;
    yields the base URL ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=str(Path(directory)))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["PG_SOCKET_DIR", "CHROMIUM", "serve", "fresh_database", "pg_admin_url", "pg_url", "chromium_browser", "browser_page"]
