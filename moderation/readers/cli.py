"""``moderation reactions-check [--repair]``: the readers' capability's command."""

from __future__ import annotations

import argparse
import json

from moderation.core.commands import command, run_with_db
from moderation.readers.reactions import audit


@command("reactions-check", "compare reaction counters with the per-reader rows (--repair fixes them)")
def cmd_reactions_check(args: argparse.Namespace, rest: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="moderation reactions-check")
    parser.add_argument("--repair", action="store_true", help="rebuild the counters of drifting targets")
    opts = parser.parse_args(rest)
    drifting = run_with_db(lambda conn: audit(conn, repair=opts.repair))
    for r in drifting:
        print(json.dumps({k: (int(v) if k not in ("target_type", "target_id") else v) for k, v in r.items()}))
    print(f"{len(drifting)} target(s) with drifting counters" + (" repaired" if opts.repair and drifting else ""))
    return 1 if drifting and not opts.repair else 0
