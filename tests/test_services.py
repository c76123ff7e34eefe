"""The outside components the tests rely on (scripts/services installs and
starts them) really work: PostgreSQL through pg_url, Chromium through
Playwright, and the CI guard that fails a session whose service tests skipped."""
from __future__ import annotations

import httpx
import pytest

from services import fresh_database, serve

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.postgres
def test_postgres_round_trip(pg_url):
    import psycopg

    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE provider (id integer PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO provider VALUES (%s, %s)", (1, "Hoivakoti Åbo Oy"))
        conn.commit()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT name FROM provider WHERE id = 1").fetchone() == ("Hoivakoti Åbo Oy",)


@pytest.fixture
def other_pg_url(pg_admin_url):
    with fresh_database() as url:
        yield url


@pytest.mark.postgres
def test_pg_url_databases_are_distinct(pg_url, other_pg_url):
    import psycopg

    assert pg_url != other_pg_url
    with psycopg.connect(pg_url) as a, psycopg.connect(other_pg_url) as b:
        name_a = a.execute("SELECT current_database()").fetchone()[0]
        name_b = b.execute("SELECT current_database()").fetchone()[0]
        assert name_a != name_b
        a.execute("CREATE TABLE only_in_a (x int)")
        a.commit()
        assert b.execute("SELECT to_regclass('only_in_a')").fetchone() == (None,)


@pytest.mark.postgres
def test_fresh_database_is_dropped_afterwards_even_while_connected(pg_admin_url):
    import psycopg

    with fresh_database() as url:
        name = url.split("@/", 1)[1].split("?", 1)[0]
        held = psycopg.connect(url)  # still open when the database is dropped
    try:
        with psycopg.connect(pg_admin_url.replace("+psycopg", "")) as admin:
            assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
    finally:
        held.close()


@pytest.mark.browser
def test_chromium_reads_a_local_page(browser_page, tmp_path):
    (tmp_path / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>t</title><h1>Laskut tarkistettu</h1>", encoding="utf-8")
    with serve(tmp_path) as base:
        assert httpx.get(base + "index.html").status_code == 200
        browser_page.goto(base + "index.html")
        assert browser_page.locator("h1").inner_text() == "Laskut tarkistettu"
        png = browser_page.screenshot()
    assert png[:8] == PNG_SIGNATURE


GUARDED = """
import pytest

@pytest.mark.postgres
def test_needs_postgres():
    pytest.skip("PostgreSQL not running: simulated")

def test_plain_skip():
    pytest.skip("not a service test")

def test_plain():
    pass
"""


def test_ci_guard_fails_a_session_with_a_skipped_service_test(pytester, monkeypatch):
    pytester.makeconftest('pytest_plugins = ["services"]')
    pytester.makepyfile(GUARDED)
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 test(s) marked postgres/browser were skipped under CI=true*",
                                 "*test_needs_postgres*PostgreSQL not running: simulated*"])
    assert "test_plain_skip [" not in result.stdout.str()


def test_ci_guard_passes_without_ci(pytester, monkeypatch):
    pytester.makeconftest('pytest_plugins = ["services"]')
    pytester.makepyfile(GUARDED)
    monkeypatch.delenv("CI", raising=False)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.OK


def test_ci_guard_marks_tests_by_fixture(pytester, monkeypatch):
    # A test that skips for want of pg_url counts even without the marker.
    pytester.makeconftest('pytest_plugins = ["services"]\n'
                          'import pytest\n'
                          '@pytest.fixture\n'
                          'def pg_url():\n'
                          '    pytest.skip("PostgreSQL not running: simulated")\n')
    pytester.makepyfile("def test_uses_pg(pg_url):\n    pass\n")
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest()
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
