"""The documentation stands alone and stays true of the program.

Users get the repository, nothing beside it: README.md and docs/*.md never
point outside it, every relative link reaches a file (and heading) of the
repository, and what the pages list (rule codes, commands and options,
headers in three languages, CSV columns, settings) is what the program has.
"""

import re
import unicodedata
from pathlib import Path

import pytest

from reconcile import config
from reconcile.cli import main
from reconcile.text import rules
from reconcile.write.csvs import APPROVAL_COLUMNS, FINDINGS_COLUMNS
from schemas import SHEETS, columns
from schemas.invoice import AttendanceKeys, Clients, GuidanceLog, InvoiceHeader
from schemas.registers import Decisions, Providers

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in heading.strip().lower()
                   if c in " -" or unicodedata.category(c)[0] in "LMN" or unicodedata.category(c) == "Pc")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", text(path)), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", text(path)))


def test_the_docs_exist_and_the_readme_points_at_them():
    for name in ("README.md", "workbook-format.md", "rules.md", "outputs.md", "command-line.md"):
        assert (DOCS / name).is_file(), name
    readme_links = links(ROOT / "README.md")
    for name in ("docs/README.md", "docs/workbook-format.md", "docs/rules.md", "docs/outputs.md",
                 "docs/command-line.md"):
        assert name in readme_links, f"README.md does not link {name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_points_outside_the_repository(page):
    body = text(page)
    assert "../shared" not in body
    assert "shared/spec" not in body
    for target in links(page):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        resolved = (page.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_docs_pages_never_send_the_reader_to_the_spec(page):
    body = text(page)
    for name in ("CONTRACT.md", "RULES.md", "STYLE.md"):
        assert name not in body, f"{page.name} refers to {name}, which users do not get"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_heading(page):
    for target in links(page):
        if re.match(r"[a-z]+:", target):
            continue
        where, _, fragment = target.partition("#")
        file = (page.parent / where).resolve() if where else page
        assert file.exists(), f"{page.name}: {target} points at a missing file"
        if fragment and file.suffix == ".md":
            assert fragment in anchors(file), f"{page.name}: {target} points at a missing heading"


def test_the_rule_table_of_rules_md_is_the_catalogue():
    page = text(DOCS / "rules.md")
    assert rules.markdown_table() in page, "run `python -m reconcile.text.rules` and paste its table into docs/rules.md"


def test_every_rule_code_is_explained_outside_the_table():
    page = text(DOCS / "rules.md")
    prose = page.replace(rules.markdown_table(), "")
    for code in rules.CATALOGUE:
        assert re.search(rf"\b{code}\b", prose), f"docs/rules.md does not explain {code}"


def test_command_line_md_names_every_command_and_option():
    page = text(DOCS / "command-line.md")
    for name, command in main.commands.items():
        assert f"## reconcile {name}" in page, f"docs/command-line.md has no section on `reconcile {name}`"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in page, f"docs/command-line.md does not name {opt} of `reconcile {name}`"
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |"):
        assert status in page


def test_command_line_md_names_every_setting():
    page = text(DOCS / "command-line.md")
    for key in (*config.SETTINGS, *config.LIMITS, "valid_from", "meal_price_eur", "meal_compensation_eur",
                "expense_compensation_eur", "guidance_min_hours"):
        assert key in page, f"docs/command-line.md does not name the setting {key}"


def test_workbook_format_md_gives_every_sheet_and_header_in_three_languages():
    page = text(DOCS / "workbook-format.md")
    for names in SHEETS.values():
        for name in names:
            assert f"`{name}`" in page, f"docs/workbook-format.md does not name the sheet {name}"
    for model in (InvoiceHeader, Clients, AttendanceKeys, GuidanceLog, Decisions, Providers):
        for spec in columns(model):
            row = f"| {spec.fi} | {spec.sv} | {spec.en} |"
            if model is not AttendanceKeys:  # Läsnäolo's keys are named as on Asiakkaat
                assert row in page, f"docs/workbook-format.md lacks the row {row}"
            for code in spec.codes:
                assert code.casefold() in page.casefold(), f"docs/workbook-format.md does not name the code {code}"


def test_outputs_md_names_every_csv_column():
    page = text(DOCS / "outputs.md")
    for column in (*FINDINGS_COLUMNS, *APPROVAL_COLUMNS):
        assert f"`{column}`" in page, f"docs/outputs.md does not describe the column {column}"
    for name in ("annotated.xlsx", "anomalies.xlsx", "approval.xlsx", "approval.csv", "findings.csv",
                 "manifest.json", "compliance.xlsx", "resolutions.csv", "payments.csv", "resolution.xlsx",
                 "trends.xlsx", "trends.csv"):
        assert name in page, f"docs/outputs.md does not describe {name}"
