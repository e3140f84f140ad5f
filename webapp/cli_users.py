"""`pressroom user ...`: add, list, remove staff accounts and change their passwords."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from archive.cli_common import common_options, settings_from
from webapp.accounts import AccountError, Accounts, check_password


@contextmanager
def _accounts(config_file: str | None, data_dir: str | None, log_level: str | None
              ) -> Iterator[Accounts]:
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        with Accounts.of(settings) as accounts:
            yield accounts
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


def _read_password(from_stdin: bool) -> str:
    """Read a new password: one line of standard input, or typed twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    return password


password_stdin = click.option("--password-stdin", is_flag=True,
                              help="Read the password from the first line of standard input "
                                   "(for scripts) instead of prompting.")


@click.group()
def user() -> None:
    """Manage the staff accounts that may log in at /staff/."""


@user.command()
@click.argument("name")
@password_stdin
@common_options
def add(name: str, password_stdin: bool, config_file: str | None, data_dir: str | None,
        log_level: str | None) -> None:
    """Add the staff account NAME (password asked twice, hidden)."""
    with _accounts(config_file, data_dir, log_level) as accounts:
        if any(a.name == name for a in accounts.all_accounts()):
            raise AccountError(f"user {name!r} already exists")
        accounts.add(name, _read_password(password_stdin))
    click.echo(f"added user {name}")


@user.command("list")
@common_options
def list_(config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """List the staff accounts, when made and last logged in."""
    with _accounts(config_file, data_dir, log_level) as accounts:
        found = accounts.all_accounts()
    if not found:
        click.echo("no staff accounts yet: add one with `pressroom user add NAME`", err=True)
    for account in found:
        click.echo(f"{account.name}\tcreated {account.created}\t"
                   f"last login {account.last_login or 'never'}")


@user.command()
@click.argument("name")
@common_options
def remove(name: str, config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Remove the staff account NAME and end its logins."""
    with _accounts(config_file, data_dir, log_level) as accounts:
        accounts.remove(name)
    click.echo(f"removed user {name}")


@user.command()
@click.argument("name")
@password_stdin
@common_options
def passwd(name: str, password_stdin: bool, config_file: str | None, data_dir: str | None,
           log_level: str | None) -> None:
    """Change the password of NAME and end its logins."""
    with _accounts(config_file, data_dir, log_level) as accounts:
        if all(a.name != name for a in accounts.all_accounts()):
            raise AccountError(f"no user {name!r}")
        accounts.set_password(name, _read_password(password_stdin))
    click.echo(f"changed the password of {name}")
