"""CPU to decode and validate one CMS webhook body, against the stdlib's bare ``json.loads`` (same run).

    .venv/bin/python bench/body_decode.py [--root DIR] [--n 20000]

``--root`` imports ``moderation`` from another checkout (e.g. a worktree of an older commit), so the old
hand-written validators and the declared shapes can be compared as ratios against the same baseline.
Bodies: a typical comment (~0.5 KB), a long one (10,000 characters) and an invalid one (every field bad:
the error path).  Reported: microseconds per body and the ratio to ``json.loads`` of the same bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def bodies() -> dict[str, bytes]:
    data = {"id": "c-1", "article": {"id": "art-1", "url": "https://news.example/a/1", "title": "City council votes"},
            "author": {"id": "reader-1", "name": "Ann Reader", "email": "ann@example.org", "ip": "203.0.113.7"},
            "text": "Thanks for the thoughtful article; the council should publish the budget.",
            "created_at": "2026-11-25T12:00:00Z"}
    long = {**data, "text": ("A long comment about the budget and the council. " * 200)[:10_000]}
    bad = {"id": "", "article": {}, "author": {"id": 3, "name": " ", "email": "nope", "ip": "x"}, "text": "",
           "created_at": "yesterday"}
    return {name: json.dumps({"type": "comment.created", "data": d}).encode()
            for name, d in (("typical", data), ("long", long), ("invalid", bad))}


def per_call_us(fn: Any, raw: bytes, n: int, rounds: int = 5) -> float:
    runs = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n):
            try:
                fn(raw)
            except Exception:
                pass
        runs.append((time.process_time() - start) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--n", type=int, default=20_000)
    opts = parser.parse_args()
    sys.path.insert(0, str(opts.root.resolve()))
    from moderation.core.config import Config
    from moderation.intake.webhook import parse_event

    config = Config()
    print(f"moderation from {opts.root.resolve()}")
    print(f"{'body':10} {'bytes':>7} {'json.loads us':>14} {'parse_event us':>15} {'ratio':>7}")
    for name, raw in bodies().items():
        base = per_call_us(json.loads, raw, opts.n)
        ours = per_call_us(lambda b: parse_event(b, config), raw, opts.n)
        print(f"{name:10} {len(raw):7d} {base:14.2f} {ours:15.2f} {ours / base:7.2f}")


if __name__ == "__main__":
    main()
