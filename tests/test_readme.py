"""The README is the user's manual: its two commands exist and every command is described."""

import re
from pathlib import Path

from click.testing import CliRunner

from reconcile.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_the_makefile_has_them():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert re.findall(r"^make (\w+)", first_block, re.M) == ["demo", "test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def commands():
    """(words, command) of every command, the subcommands of a group (`ledger copy`) instead of the group."""
    for name, command in main.commands.items():
        subs = getattr(command, "commands", None)
        if subs:
            yield from (([name, sub], cmd) for sub, cmd in subs.items())
        else:
            yield [name], command


def test_every_command_has_a_readme_section_and_help():
    assert main.commands, "the command group is empty"
    for name in main.commands:
        assert f"### reconcile {name}" in README, f"README does not describe `reconcile {name}`"
    for words, _ in commands():
        assert f"reconcile {' '.join(words)}" in README, words
        result = CliRunner().invoke(main, [*words, "--help"])
        assert result.exit_code == 0, result.output
        for option in ("--inbox", "--outbox", "--config", "--debug"):
            assert option in result.output, (words, option)


def test_every_option_of_every_command_is_named_in_the_readme():
    common = {"--inbox", "--outbox", "--config", "--debug", "--help"}
    for name, command in commands():
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in common:
                    assert opt in README, f"README does not mention {opt} of `reconcile {name}`"


def test_readme_names_every_status_in_every_language():
    """The routine's status table says what the workbooks say, so a clerk can match them."""
    from reconcile.model import STATUSES
    from reconcile.text import messages

    for status in STATUSES:
        row = f"| `{status}` | " + " | ".join(messages.status(status, lang) for lang in ("fi", "sv", "en")) + " |"
        assert row in README, row
