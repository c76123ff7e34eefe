"""The command line (CONTRACT.md section 6): parse options, call one library function, exit.

The library never imports click. It raises `ReconcileError`s that carry the
contract's exit codes; they are caught here and printed as one or two plain
sentences on stderr, with a traceback only under `--debug`.
"""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import click

from reconcile import __version__
from reconcile.errors import ReconcileError


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
            click.echo(f"reconcile: {e}", err=True)
            sys.exit(e.exit_code)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as e:  # a bug: say so plainly, keep the traceback for --debug
            if debug:
                traceback.print_exc()
            click.echo(f"reconcile: internal error ({type(e).__name__}: {e}). Run again with --debug for details.", err=True)
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
