"""The command line (CONTRACT.md section 6): parse options, call one library function, exit.

The library never imports click. It raises `ReconcileError`s that carry the
contract's exit codes; they are caught here and printed as one or two plain
sentences on stderr, with a traceback only under `--debug`. Every henkilötunnus
in such a sentence is shortened to its birth date (`messages.redact`).
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import click

from reconcile import __version__
from reconcile.errors import ReconcileError
from reconcile.text.messages import redact


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--inbox`, `--outbox`, `--config`, `--debug`: options of every command."""

    @click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), default=Path("inbox"), show_default=True, help="Folder of registers and batch folders.")
    @click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), default=Path("outbox"), show_default=True, help="Folder the results are written to.")
    @click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("config"), show_default=True, help="Folder of rates.toml and settings.toml.")
    @click.option("--debug", is_flag=True, help="Show a traceback when something fails.")
    @functools.wraps(func)
    def wrapper(*args: Any, debug: bool, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReconcileError as e:
            if debug:
                traceback.print_exc()
            click.echo(f"reconcile: {redact(str(e))}", err=True)
            sys.exit(e.exit_code)
        except BrokenPipeError:  # `reconcile ... | head`: the reader has gone, so has the rest of the output
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as e:  # a bug: say so plainly, keep the traceback for --debug
            if debug:
                traceback.print_exc()
            click.echo(f"reconcile: internal error ({type(e).__name__}: {redact(str(e))}). Run again with --debug for details.", err=True)
            sys.exit(3)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
def main() -> None:
    """Check service-voucher providers' monthly invoices against the city's decisions."""


@main.command()
@common_options
@click.option("--providers", type=click.IntRange(1, 5000), default=40, show_default=True, help="How many providers.")
@click.option("--clients", type=click.IntRange(1, 200000), default=1200, show_default=True, help="How many clients (decisions) in the register.")
@click.option("--batches", default="2026-10..2026-11", show_default=True, help="Batch months to write, YYYY-MM..YYYY-MM or one YYYY-MM.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed: the same seed gives the same inbox.")
@click.option("--anomalies", type=click.FloatRange(0.0, 1.0), default=0.03, show_default=True, help="Share of invoice rows given a planted mistake.")
def demo(inbox: Path, outbox: Path, config_dir: Path, providers: int, clients: int, batches: str, seed: int, anomalies: float) -> None:
    """Write a realistic synthetic inbox (registers and invoices) to try the program on."""
    from reconcile import demo as demo_mod

    summary = demo_mod.write_inbox(inbox, config_dir=config_dir, providers=providers, clients=clients, batches=batches, seed=seed, anomaly_rate=anomalies)
    click.echo(summary)


@main.command()
@common_options
@click.option("--provider", "provider_id", metavar="Y-TUNNUS", help="The provider to write the template for.")
@click.option("--all", "all_providers", is_flag=True, help="Write one template for every provider with a decision in force in the month.")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month the template bills.")
@click.option("--out", type=click.Path(path_type=Path), help="File to write (.xlsx), or folder. Default: <outbox>/templates/YYYY-MM/.")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), help="Language of the template. Default: the provider's language in the register.")
def template(inbox: Path, outbox: Path, config_dir: Path, provider_id: str | None, all_providers: bool, month: str, out: Path | None, lang: str | None) -> None:
    """Write a blank invoice workbook for a provider and month, pre-filled with its decisions."""
    import datetime as dt

    from reconcile import config as config_mod, template as template_mod
    from reconcile.read import registers as registers_mod
    from reconcile.errors import UsageError

    if bool(provider_id) == all_providers:
        raise UsageError("Give either --provider Y-TUNNUS or --all.")
    try:
        first = dt.datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise UsageError(f"--month must be a month like 2026-11, not {month!r}.") from None
    if all_providers and out is not None and out.suffix.lower() == ".xlsx":
        raise UsageError("With --all, --out is a folder: each provider gets its own file in it.")
    cfg = config_mod.load(config_dir)
    regs = registers_mod.read_registers(inbox, cfg)
    target = out or outbox / "templates" / first.strftime("%Y-%m")
    if all_providers:
        written, skipped = template_mod.write_all_templates(regs, cfg, first, target, lang)
        for path in written:
            click.echo(path)
        for reason in skipped:
            click.echo(f"skipped {reason}", err=True)
    else:
        click.echo(template_mod.write_template(regs, cfg, provider_id, first, target, lang))


LEDGER_HELP = ("Ledger file, sqlite:/// or postgresql://user@host:port/db URL "
               "(default: config's ledger, else <outbox>/ledger.sqlite).")


@main.command()
@common_options
@click.option("--batch", metavar="YYYY-MM", help="Batch folder to process (default: the newest).")
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
@click.option("--quiet", is_flag=True, help="No progress bar on stderr (it only shows on a terminal anyway).")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), help="Language of the finance and audit files (default: settings.toml, else fi).")
def run(inbox: Path, outbox: Path, config_dir: Path, batch: str | None, ledger: str | None, quiet: bool, lang: str | None) -> None:
    """Process one batch of invoices and write its outbox; findings are not a failure."""
    from reconcile import batch as batch_mod, config, progress

    cfg = config.load(config_dir)
    if lang:
        cfg = cfg.with_language(lang)
    bar = progress.TerminalBar(quiet=quiet)
    try:
        with progress.listening(bar):
            result = batch_mod.run_batch(inbox, outbox, cfg, batch=batch, ledger=ledger)
    finally:
        bar.close()
    click.echo(f"Batch {result.batch}, run {result.run_id}: {len(result.invoices)} invoice(s), {len(result.findings)} finding(s).")
    if not result.invoices:
        click.echo(f"The batch folder {inbox / result.batch} holds no submissions: nothing was checked. "
                   "The batch's outputs were written all the same.")
    for line in summary_lines(result):
        click.echo(line)
    if result.rebuilt:
        click.echo(f"Batch {result.batch} has signed-off invoices and its inputs are unchanged: its outbox was "
                   "rebuilt, the ledger is unchanged.")
    if result.replaced_now and result.replaces:
        r = result.replaces
        click.echo(f"This run replaces run {r['previous_run_id']} of batch {result.batch}: "
                   f"{len(r['invoices_added'])} invoice(s) added, {len(r['invoices_removed'])} removed; "
                   f"approved {r['totals_before_eur']['approved']} EUR before, {r['totals_after_eur']['approved']} EUR now.")
    folder = outbox / result.batch
    click.echo(f"Results: {folder}/ (finance/approval.xlsx for finance, audit/ for auditors, providers/ and rejected/ for each provider).")


def summary_lines(result: Any) -> list[str]:
    """The run's totals for the terminal: euros claimed, approved, held and rejected, then invoices by status.

    Euros come first because money held inside partly approved invoices is
    invisible in the counts by status.
    """
    from reconcile.model import STATUSES, Money
    from reconcile.text.format import euros as eur

    total = sum((inv.total for inv in result.invoices), Money())
    lines = [f"  claimed {eur(total.claimed)} EUR: approved {eur(total.approved)}, held {eur(total.held)}, "
             f"rejected {eur(total.rejected)}"]
    for status in STATUSES:
        chosen = [inv for inv in result.invoices if inv.status == status]
        money = sum((inv.total for inv in chosen), Money())
        lines.append(f"  {status}: {len(chosen)} invoice(s), claimed {eur(money.claimed)} EUR")
    return lines


@main.command()
@common_options
@click.option("--batch", required=True, metavar="YYYY-MM", help="Batch the invoice was processed in.")
@click.option("--invoice", "invoice_no", metavar="NO", help="Invoice number.")
@click.option("--all-approved", is_flag=True, help="Sign off every invoice of the batch whose status is approved.")
@click.option("--provider", metavar="Y-TUNNUS", help="Provider, when several share the invoice number.")
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
def approve(inbox: Path, outbox: Path, config_dir: Path, batch: str, invoice_no: str | None, all_approved: bool,
            provider: str | None, ledger: str | None) -> None:
    """Record finance's sign-off of an invoice (or of every approved one) and write its payment row;
    its days can never be paid again."""
    import getpass

    from reconcile import config
    from reconcile.errors import UsageError
    from reconcile.resolve import finance

    if bool(invoice_no) == all_approved:
        raise UsageError("Give either --invoice NO or --all-approved.")
    cfg = config.load(config_dir)
    if all_approved:
        chosen = finance.approved_unsigned(outbox, cfg, batch, ledger)
        if not chosen:
            click.echo(f"Batch {batch} has no approved invoice waiting for sign-off.")
        for provider_id, number in chosen:
            _say_approved(batch, finance.approve_invoice(inbox, outbox, cfg, batch, number, provider_id, ledger,
                                                         getpass.getuser()))
    else:
        _say_approved(batch, finance.approve_invoice(inbox, outbox, cfg, batch, invoice_no, provider, ledger,
                                                     getpass.getuser()))
    click.echo(f"Payments: {outbox / batch / 'finance' / 'payments.csv'}")


def _say_approved(batch: str, done: Any) -> None:
    from reconcile.text.format import euros as eur

    paid = done.payment
    if done.already and paid is None:
        click.echo(f"Invoice {done.invoice_no} of {done.provider_id} (batch {batch}) was already signed off by "
                   f"{done.signed_off_by} at {done.signed_off_at}; nothing new to pay.")
    elif done.already:
        click.echo(f"Invoice {done.invoice_no} of {done.provider_id} (batch {batch}) was already signed off; "
                   f"supplement of {eur(paid['amount_cents'])} EUR for held days paid since, as {paid['signed_off_by']}.")
    else:
        click.echo(f"Signed off invoice {done.invoice_no} of {done.provider_id} (batch {batch}, {done.status}) as "
                   f"{done.signed_off_by} at {done.signed_off_at}: {eur(paid['amount_cents'])} EUR to pay.")


@main.command()
@common_options
@click.option("--batch", required=True, metavar="YYYY-MM", help="Batch whose held days are answered.")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path),
              help="The filled approval.xlsx or a CSV of answers (default: <outbox>/YYYY-MM/finance/approval.xlsx).")
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
def resolve(inbox: Path, outbox: Path, config_dir: Path, batch: str, file: Path | None, ledger: str | None) -> None:
    """Record finance's answers (pay / reject) on held days; refused lines are printed, the others recorded."""
    import getpass

    from reconcile import config
    from reconcile.resolve import finance

    cfg = config.load(config_dir)
    done = finance.resolve_batch(inbox, outbox, cfg, batch, file, ledger, getpass.getuser())
    for r in done.refused:
        click.echo(f"refused {r.where}: {redact(r.reason)}")
    pay = sum(1 for t in done.taken if t.answer.resolution == "pay")
    click.echo(f"Batch {batch}: {len(done.taken)} answer(s) recorded ({pay} pay, {len(done.taken) - pay} reject), "
               f"{len(done.refused)} refused, {done.repeats} already given.")
    if done.taken:
        click.echo(f"Results: {done.folder}/finance/ (approval.xlsx, approval.csv, resolutions.csv).")


@main.command()
@common_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
def check(inbox: Path, outbox: Path, config_dir: Path, file: Path, ledger: str | None) -> None:
    """Check one invoice workbook against the registers and print its findings (writes nothing).

    Exit status 0: no errors; 1: errors found; 3: the file cannot be read.
    """
    from reconcile import batch as batch_mod, config, ledger as ledger_mod
    from reconcile.text import messages

    cfg = config.load(config_dir)
    result = batch_mod.check_file(file, inbox, cfg, ledger=ledger_mod.location(cfg.ledger, outbox, ledger))
    for line in messages.check_lines(result):  # wholly in the provider's language
        click.echo(line)
    errors = sum(1 for f in result.findings if f.is_error)
    if any(f.rule in ("F001", "F002") for f in result.findings):
        sys.exit(3)
    sys.exit(1 if errors else 0)


@main.group("ledger")
def ledger_group() -> None:
    """Set up, upgrade or copy a ledger (a SQLite file or a PostgreSQL database)."""


@ledger_group.command("copy")
@click.argument("source", metavar="SOURCE")
@click.argument("target", metavar="TARGET")
@common_options
def ledger_copy(inbox: Path, outbox: Path, config_dir: Path, source: str, target: str) -> None:
    """Copy the whole ledger SOURCE into the empty ledger TARGET and check that both hold the same.

    Each is a file path, a sqlite:/// or a postgresql:// URL. A TARGET that holds
    any record is refused (exit 3); so is a copy whose days, invoices or euro
    totals differ from the source's (nothing is copied then).
    """
    from reconcile.ledger import copy as copy_mod, describe
    from reconcile.text.format import euros as eur

    done = copy_mod.copy_ledger(source, target)
    t = done.totals
    click.echo(f"Copied {describe(source)} into {describe(target)}: "
               + ", ".join(f"{n} {name}" for name, n in done.rows.items()) + ".")
    click.echo(f"Checked equal: {t.get('days:paid', 0)} paid and {t.get('days:held', 0)} held days, {t['invoices']} invoices, "
               f"claimed {eur(t['claimed_cents'])}, approved {eur(t['approved_cents'])}, held {eur(t['held_cents'])}, "
               f"rejected {eur(t['rejected_cents'])} EUR.")


@ledger_group.command("migrate")
@click.argument("ledger", metavar="LEDGER")
@common_options
def ledger_migrate(inbox: Path, outbox: Path, config_dir: Path, ledger: str) -> None:
    """Create the ledger's tables, or upgrade them to this version (run it as the database's owner)."""
    from reconcile.ledger import describe, migrate

    before, now = migrate(ledger)
    if before == 0:
        click.echo(f"Created the ledger {describe(ledger)} (schema version {now}).")
    elif before == now:
        click.echo(f"The ledger {describe(ledger)} is up to date (schema version {now}).")
    else:
        click.echo(f"Upgraded the ledger {describe(ledger)} from schema version {before} to {now}.")


@main.command()
@common_options
@click.option("--from", "first", required=True, metavar="YYYY-MM", help="First month of the report.")
@click.option("--to", "last", required=True, metavar="YYYY-MM", help="Last month of the report.")
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), help="Language of trends.xlsx (default: settings.toml, else fi).")
def report(inbox: Path, outbox: Path, config_dir: Path, first: str, last: str, ledger: str | None, lang: str | None) -> None:
    """Trends across months from the ledger and the registers: outbox/reports/<from>_<to>/."""
    from reconcile import config, reporting
    from reconcile.write.trends_xlsx import missing_text

    cfg = config.load(config_dir)
    lang = lang or cfg.language
    folder, figures = reporting.report(inbox, outbox, cfg, first, last, lang, ledger=ledger)
    months = ", ".join(figures.months) or "none"
    click.echo(f"Trends {first}..{last}: {len(figures.months)} month(s) with a batch ({months}), "
               f"{len(figures.providers)} provider(s).")
    for line in missing_text(figures, "en"):
        click.echo(line)
    click.echo(f"Results: {folder}/trends.xlsx and trends.csv.")


@main.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
@click.option("--https", "behind_https", is_flag=True,
              help="Behind an https reverse proxy on this machine: Secure cookies, trust its X-Forwarded-* headers.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes for checks (default: 2, at most the cores).")
def serve(inbox: Path, outbox: Path, config_dir: Path, host: str, port: int, ledger: str | None, behind_https: bool,
          workers: int | None) -> None:
    """Serve the web portal: providers check, send and fetch invoices; finance reviews and signs off."""
    from reconcile.portal import app as portal_app

    portal_app.serve(inbox, outbox, config_dir, host=host, port=port, ledger=ledger, https=behind_https,
                     workers=workers)


@main.group()
def users() -> None:
    """Accounts of the web portal."""


@users.command("add")
@common_options
@click.argument("name")
@click.option("--provider", "provider_id", metavar="Y-TUNNUS", help="A provider's account, for this Y-tunnus.")
@click.option("--finance", is_flag=True, help="A finance account.")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), default="fi", show_default=True,
              help="The account's first language (the person can change it).")
@click.option("--url", "base_url", default="http://127.0.0.1:8000", show_default=True,
              help="The portal's address as people reach it (the reverse proxy's https address).")
@click.option("--ledger", metavar="PATH|URL", help=LEDGER_HELP)
def users_add(inbox: Path, outbox: Path, config_dir: Path, name: str, provider_id: str | None, finance: bool,
              lang: str, base_url: str, ledger: str | None) -> None:
    """Add a portal account and print its one-time sign-up link (valid 7 days).

    For an existing account of the same kind, prints a new link (the old ones stop working).
    """
    from reconcile import config
    from reconcile.ledger import store as ledger_mod
    from reconcile.portal import accounts

    cfg = config.load(config_dir)
    token = accounts.invite(ledger_mod.location(cfg.ledger, outbox, ledger), name, provider_id, finance, lang)
    click.echo(f"{base_url.rstrip('/')}/signup/{token}")
    click.echo(f"One-time link for {name}, valid {accounts.LINK_DAYS} days.", err=True)
