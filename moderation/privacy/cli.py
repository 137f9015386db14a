"""``moderation commenter export AUTHOR_ID`` / ``moderation commenter erase AUTHOR_ID``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from moderation.core.commands import command, config_from_env, run_with_db


@command("commenter", "a commenter's data (GDPR): export AUTHOR_ID (JSON) | erase AUTHOR_ID [--reason R]")
def cmd_commenter(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.core.problems import Problem
    from moderation.privacy import commenter

    parser = argparse.ArgumentParser(prog="moderation commenter")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("export", help="print everything held about the author as JSON (Art. 15)").add_argument(
        "author_id")
    erase = sub.add_parser("erase", help="erase the author's data; audit entries keep a pseudonym (Art. 17)")
    erase.add_argument("author_id")
    erase.add_argument("--reason", help="recorded in the audit log (e.g. the request's reference)")
    opts = parser.parse_args(rest)
    config = config_from_env()

    async def run(conn: Any) -> Any:
        if opts.action == "export":
            return await commenter.export(conn, opts.author_id)
        return await commenter.erase(conn, config, opts.author_id, actor="cli", reason=opts.reason)

    try:
        out = run_with_db(run)
    except Problem as problem:
        print(f"moderation commenter {opts.action}: {problem.body_dict['detail']}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0
