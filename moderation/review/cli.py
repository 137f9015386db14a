"""``moderation create-moderator | set-password | issue-token``: account administration from the shell."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from moderation.core.commands import command, run_with_db


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise SystemExit("no password on stdin")
        return password
    if not sys.stdin.isatty():
        raise SystemExit("no terminal to prompt for a password: pass --password-stdin and pipe it in")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise SystemExit("the passwords do not match")
    return first


def _with_database(work: Callable[[Any], Awaitable[int]]) -> int:
    return int(run_with_db(work))


@command("create-moderator", "create a moderator account: --email E --role admin|moderator [--password-stdin]")
def cmd_create_moderator(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.review.auth import ROLES, AccountError, create_moderator, normalise_email

    parser = argparse.ArgumentParser(prog="moderation create-moderator")
    parser.add_argument("--email", required=True)
    parser.add_argument("--role", choices=ROLES, default="moderator")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    opts = parser.parse_args(rest)
    try:
        normalise_email(opts.email)
    except AccountError as exc:
        parser.error(str(exc))
    password = _read_password(opts.password_stdin)

    async def work(conn: Any) -> int:
        try:
            moderator = await create_moderator(conn, opts.email, password, opts.role)
        except AccountError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"created {moderator.role} {moderator.email} (id {moderator.id})")
        return 0

    return _with_database(work)


@command("set-password", "change a moderator's password and end their sessions: --email E [--password-stdin]")
def cmd_set_password(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.review.auth import AccountError, set_password

    parser = argparse.ArgumentParser(prog="moderation set-password")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password-stdin", action="store_true")
    opts = parser.parse_args(rest)
    password = _read_password(opts.password_stdin)

    async def work(conn: Any) -> int:
        try:
            moderator = await set_password(conn, opts.email, password)
        except AccountError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if moderator is None:
            print(f"error: no active moderator with e-mail {opts.email}", file=sys.stderr)
            return 1
        print(f"password changed for {moderator.email}; their sessions and API tokens were ended")
        return 0

    return _with_database(work)


@command("issue-token", "print a new API bearer token for a moderator: --email E --name N [--expires-days D]")
def cmd_issue_token(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.core.sql import Q
    from moderation.review.auth import AccountError, issue_token, normalise_email

    parser = argparse.ArgumentParser(prog="moderation issue-token")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True, help="what the token is for, e.g. 'cms-integration'")
    parser.add_argument("--expires-days", type=float, default=None)
    opts = parser.parse_args(rest)
    try:
        email = normalise_email(opts.email)
    except AccountError as exc:
        parser.error(str(exc))

    async def work(conn: Any) -> int:
        row = await conn.fetchrow(Q.auth_moderator_by_email, email)
        if row is None:
            print(f"error: no active moderator with e-mail {email}", file=sys.stderr)
            return 1
        expires = None if opts.expires_days is None else opts.expires_days * 86400
        token = await issue_token(conn, row["id"], opts.name, actor="cli", expires_in_s=expires)
        print(token)
        print(f"(token for {email}, role {row['role']}; shown once — store it now)", file=sys.stderr)
        return 0

    return _with_database(work)


@command("disable-moderator", "lock an account out (its sessions and API tokens end): --email E [--enable]")
def cmd_disable_moderator(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.review.auth import AccountError, normalise_email, set_disabled

    parser = argparse.ArgumentParser(prog="moderation disable-moderator")
    parser.add_argument("--email", required=True)
    parser.add_argument("--enable", action="store_true", help="re-enable a disabled account instead")
    opts = parser.parse_args(rest)
    try:
        email = normalise_email(opts.email)
    except AccountError as exc:
        parser.error(str(exc))

    async def work(conn: Any) -> int:
        row = await set_disabled(conn, email, not opts.enable, actor="cli")
        if row is None:
            print(f"error: no moderator with e-mail {email}", file=sys.stderr)
            return 1
        print(f"{'enabled' if opts.enable else 'disabled (sessions and API tokens ended)'} {row['role']} "
              f"{row['email']}")
        return 0

    return _with_database(work)
