"""Classifier throughput: raw batched scoring vs the service's MicroBatcher path.

    .venv/bin/python bench/classifier_throughput.py [--data ../shared/datasets] [--docs 2000]

Both figures score the same documents with the shipped model in the same run.  "raw" calls
``model.score`` directly in big batches (the ceiling); "batcher" sends every document as its own
``MicroBatcher.score`` call from 256 concurrent callers (what the web service does).  Latency is a
single caller awaiting one comment at a time (no concurrency), so it includes the batch window.

The "fast path" rows compare ``model.score`` with ``model.score_reference`` (sklearn vectorisers +
per-row scipy explanations: the scoring algorithm before it was vectorised; both share today's
text cleaning) at production batch sizes, interleaved, median of the repeats, in process CPU time
(the machine is shared, CPU time is far less sensitive to other processes than wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as _dt
import json
import os
import shlex
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import Model, load_model  # noqa: E402
from classifier.batcher import MicroBatcher  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "classifier"


def load_docs(data: Path, n: int) -> tuple[list[str], str]:
    """``n`` texts, interleaved from the datasets when present, else cycled from the fixtures."""
    pools: list[list[str]] = []
    for name in ("youtube_spam", "sms_spam", "davidson", "jigsaw_sample"):
        path = data / name / "train.csv"
        if path.is_file():
            with open(path, encoding="utf-8", newline="") as fh:
                pools.append([r["text"] for r in csv.DictReader(fh)])
    source = "datasets"
    if not pools:
        source = "fixtures"
        for name in ("news_comments.csv", "train_small.csv"):
            with open(FIXTURES / name, encoding="utf-8", newline="") as fh:
                pools.append([r["text"] for r in csv.DictReader(fh)])
    docs: list[str] = []
    i = 0
    while len(docs) < n:
        pool = pools[i % len(pools)]
        docs.append(pool[(i // len(pools)) % len(pool)])
        i += 1
    return docs, source


async def through_batcher(batcher: MicroBatcher, docs: list[str], concurrency: int) -> float:
    queue = list(reversed(docs))

    async def worker() -> None:
        while queue:
            await batcher.score(queue.pop())

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t


async def latencies(batcher: MicroBatcher, docs: list[str]) -> list[float]:
    out = []
    for d in docs:
        t = time.perf_counter()
        await batcher.score(d)
        out.append((time.perf_counter() - t) * 1000.0)
    return out


# Measured in the session that vectorised scoring (2026-11-25, this 2-core shared machine): A/B
# against a copy of the previous code in one process, 1,024 dataset docs, medians of 7 interleaved
# repeats, docs/s in process CPU time; "warm" = word cache filled by 8,000 other docs first, "cold" =
# cache emptied before every pass.  Kept in the JSON notes; each run measures its own baseline rows.
PRE_VECTORISATION_NOTE = (
    "Before/after of the vectorised scoring path (2026-11-25 session, same machine, A/B vs the previous "
    "code in one process, CPU-time docs/s, medians of interleaved repeats). Warm word cache: batch 1 446 -> "
    "1439 (3.2x), batch 8 841 -> 2295 (2.7x), batch 64 1226 -> 3053 (2.5x), batch 512 1325 -> 3178 (2.4x). "
    "Cold word cache (emptied before each pass): batch 1 424 -> 1054 (2.5x), batch 64 1130 -> 2247 (2.0x). "
    "Outputs are identical (tests/test_classifier_regression.py pins them). The 'fast path' rows below "
    "compare against score_reference(), which already shares the faster text cleaning, so their ratio "
    "understates the total gain."
)


def fast_path_rows(model: Model, docs: list[str], repeats: int) -> list[dict]:
    """docs/s of score() vs score_reference() at batch 1 and 64 (CPU time, interleaved, medians)."""
    plan = {1: docs[:150], 64: docs[:640]}
    got: dict[tuple[str, int], list[float]] = {}
    for _ in range(repeats):
        for batch, sample in plan.items():
            for name, fn in (("fast", model.score), ("reference", model.score_reference)):
                t = time.process_time()
                for i in range(0, len(sample), batch):
                    fn(sample[i : i + batch])
                got.setdefault((name, batch), []).append(len(sample) / max(time.process_time() - t, 1e-9))
    rows = []
    for batch in plan:
        fast, ref = statistics.median(got[("fast", batch)]), statistics.median(got[("reference", batch)])
        rows.append(
            {
                "figure": f"docs/s raw score(), batch {batch}: vectorised path vs per-row reference path (CPU time)",
                "ours": round(fast, 1),
                "baseline": round(ref, 1),
                "ratio": round(fast / ref, 2),
                "goal": "ratio >= 3 at batch 64, a clear gain at batch 1",
                "unit": "docs/s",
                "met": fast / ref >= (3.0 if batch == 64 else 1.5),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--batch", type=int, default=256, help="raw batch size")
    parser.add_argument("--max-batch", type=int, default=64, help="MicroBatcher max_batch")
    parser.add_argument("--window-ms", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=1, help="executor threads for the batcher")
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for each throughput figure")
    parser.add_argument("--fast-path-repeats", type=int, default=3, help="repeats of the fast-path rows (0: skip)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "classifier_throughput.json"))
    args = parser.parse_args(argv)

    model = load_model()
    docs, source = load_docs(Path(args.data), args.docs)
    model.score(docs[:64])  # warm-up

    def raw_pass() -> float:
        t = time.perf_counter()
        for i in range(0, len(docs), args.batch):
            model.score(docs[i : i + args.batch])
        return time.perf_counter() - t

    async def run_async() -> tuple[list[float], list[float], list[float], float]:
        # Raw and batcher passes alternate so that load from other processes on a shared
        # machine hits both figures alike; best-of-N is reported for each.
        raw_times, times = [], []
        with ThreadPoolExecutor(max_workers=args.workers) as ex:
            b = MicroBatcher(model.score, ex, window_ms=args.window_ms, max_batch=args.max_batch)
            for _ in range(args.repeats):
                raw_times.append(raw_pass())
                times.append(await through_batcher(b, docs, args.concurrency))
            batches, items = b.batches, b.items
            lat = await latencies(b, docs[: args.latency_samples])
            await b.close()
        return raw_times, times, lat, items / max(batches, 1)

    raw_times, times, lat, mean_batch = asyncio.run(run_async())
    raw_dps = len(docs) / min(raw_times)
    best = min(times)
    batcher_dps = len(docs) / best
    lat_sorted = sorted(lat)
    p50 = statistics.median(lat_sorted)
    p99 = lat_sorted[min(len(lat_sorted) - 1, round(0.99 * (len(lat_sorted) - 1)))]

    t = time.perf_counter()
    for d in docs[: args.latency_samples]:
        model.score([d])
    direct_single_ms = (time.perf_counter() - t) * 1000.0 / args.latency_samples

    extra_rows = fast_path_rows(model, docs, args.fast_path_repeats) if args.fast_path_repeats > 0 else []

    rows = [
        {
            "figure": f"docs/s through MicroBatcher ({args.concurrency} concurrent callers) vs raw batched score()",
            "ours": round(batcher_dps, 1),
            "baseline": round(raw_dps, 1),
            "ratio": round(batcher_dps / raw_dps, 3),
            "goal": "ratio >= 0.9",
            "unit": "docs/s",
        },
        {
            "figure": "single-comment latency p50 through MicroBatcher (no concurrency) vs direct score([text])",
            "ours": round(p50, 2),
            "baseline": round(direct_single_ms, 2),
            "ratio": round(p50 / direct_single_ms, 3),
            "goal": f"<= direct + window ({args.window_ms} ms)",
            "unit": "ms",
        },
        {
            "figure": "single-comment latency p99 through MicroBatcher (no concurrency)",
            "ours": round(p99, 2),
            "baseline": None,
            "ratio": None,
            "goal": "informational",
            "unit": "ms",
        },
        {
            "figure": "mean batch size formed by MicroBatcher under load",
            "ours": round(mean_batch, 1),
            "baseline": None,
            "ratio": None,
            "goal": "> 1",
            "unit": "docs/batch",
        },
        *extra_rows,
    ]
    result = {
        "name": "classifier_throughput",
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            shlex.quote(a) for a in [".venv/bin/python", "bench/classifier_throughput.py", *(argv or sys.argv[1:])]
        ),
        "model_version": model.version,
        "docs": len(docs),
        "doc_source": source,
        "cpu_count": os.cpu_count(),
        "rows": rows,
        "notes": PRE_VECTORISATION_NOTE,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(f"{'figure':<95} {'ours':>10} {'baseline':>10} {'ratio':>7}  unit")
    for r in rows:
        b = "" if r["baseline"] is None else r["baseline"]
        ra = "" if r["ratio"] is None else r["ratio"]
        print(f"{r['figure']:<95} {r['ours']:>10} {b!s:>10} {ra!s:>7}  {r['unit']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
