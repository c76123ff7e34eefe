"""One rule catalogue: every code emitted is catalogued, every catalogued code is emitted,
and the README's rule table is the catalogue's."""

import re
from pathlib import Path

from reconcile.text import rules

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"""["']([FVRX]\d{3})["']""")


def codes_in_source() -> set[str]:
    found: set[str] = set()
    for folder in ("reconcile", "schemas"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "reconcile" / "text" / "rules.py":  # the catalogue itself is no emitter
                continue
            found.update(CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_in_the_source_is_catalogued():
    assert codes_in_source() - set(rules.CATALOGUE) == set()


def test_every_catalogued_code_has_an_emitter():
    assert set(rules.CATALOGUE) - codes_in_source() == set()


def test_every_rule_has_all_three_languages():
    for code, rule in rules.CATALOGUE.items():
        assert set(rule.texts) == set(rules.LANGUAGES), code
        assert all(t.message and t.fix for t in rule.texts.values()), code


def test_readme_rule_table_is_rendered_from_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rules.markdown_table() in readme, "run `python -m reconcile.rules` and paste its table into README.md"


def test_every_rule_has_a_heading_in_every_language():
    for code, rule in rules.CATALOGUE.items():
        headings = [rule.heading(lang) for lang in rules.LANGUAGES]
        assert all(headings) and len(set(headings)) == 3, code
