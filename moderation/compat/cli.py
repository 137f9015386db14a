"""``moderation api-key create NAME | list | revoke NAME``: keys of the Perspective and Akismet protocols."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from moderation.core.commands import command, run_with_db


@command("api-key", "Perspective/Akismet API keys: create NAME [--rate N] | list | revoke NAME")
def cmd_api_key(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.compat import apikeys

    parser = argparse.ArgumentParser(prog="moderation api-key")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a key; it is printed once, as the last line of stdout")
    create.add_argument("name")
    create.add_argument("--rate", type=int, default=None,
                        help="requests per minute for this key (default MODERATION_API_KEY_RATE; 0 = unlimited)")
    sub.add_parser("list", help="every key: name, prefix, rate, created, last used, revoked")
    revoke = sub.add_parser("revoke", help="revoke the live key of that name (effective within 10 s everywhere)")
    revoke.add_argument("name")
    opts = parser.parse_args(rest)

    async def work(conn: Any) -> int:
        try:
            if opts.action == "create":
                key_id, key = await apikeys.create(conn, opts.name, rate_per_minute=opts.rate)
                print(f"created API key {opts.name.strip()!r} (id {key_id}); it is shown only now:", file=sys.stderr)
                print(key, flush=True)
                return 0
            if opts.action == "revoke":
                if not await apikeys.revoke(conn, opts.name):
                    print(f"error: no live key named {opts.name!r}", file=sys.stderr)
                    return 1
                print(f"revoked {opts.name!r}")
                return 0
        except apikeys.ApiKeyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        rows = await apikeys.list_keys(conn)
        print(f"{'name':<24} {'prefix':<10} {'rate/min':>8}  {'created':<20} {'last used':<20} revoked")
        for r in rows:
            rate = "default" if r["rate_per_minute"] is None else str(r["rate_per_minute"] or "unlimited")
            when = [(r[c].strftime("%Y-%m-%d %H:%M:%S") if r[c] else "-")
                    for c in ("created_at", "last_used_at", "revoked_at")]
            print(f"{r['name']:<24} {r['prefix'] + '…':<10} {rate:>8}  {when[0]:<20} {when[1]:<20} {when[2]}")
        return 0

    return int(run_with_db(work))
