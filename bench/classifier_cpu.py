"""CPU per comment of the shipped model vs the previous one (classifier/models/2026.11.26), same run.

    .venv/bin/python bench/classifier_cpu.py [--data ../shared/datasets] [--batch 16] [--repeats 7]

Both models score the same documents (news comments first, then the other sets, cycled) through
``Model.score`` at the service's micro-batch size with the service's explanation floors (reasons only for
texts at or above a hold threshold), interleaved, in process CPU time; the figure is the median over
repeats.  Goal (issue #14): the new model <= 1.5x the previous one's CPU per comment at batch 16.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import load_model  # noqa: E402

PREVIOUS = ROOT / "classifier" / "models" / "2026.11.26"
FIXTURES = ROOT / "tests" / "fixtures" / "classifier"
SOURCES = ("civil_comments", "youtube_spam", "sms_spam", "jigsaw_sample", "davidson", "arabic_mpold", "korean_kmhas")


def load_docs(data: Path, n: int) -> tuple[list[str], str]:
    pools = []
    for name in SOURCES:
        path = data / name / "train.csv"
        if path.is_file():
            with open(path, encoding="utf-8", newline="") as fh:
                pools.append([r["text"] for r in csv.DictReader(fh)])
    source = "datasets"
    if not pools:
        source = "fixtures"
        with open(FIXTURES / "news_comments.csv", encoding="utf-8", newline="") as fh:
            pools.append([r["text"] for r in csv.DictReader(fh)])
    docs, i = [], 0
    while len(docs) < n:
        pool = pools[i % len(pools)]
        docs.append(pool[(i // len(pools)) % len(pool)])
        i += 1
    return docs, source


def floors(model: object) -> dict[str, float]:
    t = model.metadata["thresholds"]  # type: ignore[attr-defined]
    return {k: v for k, v in t.items() if k in (*model.attributes_for("en"), "abuse")}  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets"))
    parser.add_argument("--docs", type=int, default=1400)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "classifier_cpu.json"))
    args = parser.parse_args(argv)
    docs, source = load_docs(Path(args.data), args.docs)
    models = {"new": load_model(), "previous": load_model(PREVIOUS)}
    for m in models.values():
        m.score(docs[:64])  # warm-up (language identifier, word caches)
    got: dict[str, list[float]] = {k: [] for k in models}
    for _ in range(args.repeats):
        for name, m in models.items():
            fl = floors(m)
            t = time.process_time()
            for i in range(0, len(docs), args.batch):
                m.score(docs[i : i + args.batch], explain_min=fl)
            got[name].append((time.process_time() - t) / len(docs) * 1e6)
    new, prev = statistics.median(got["new"]), statistics.median(got["previous"])
    rows = [{
        "figure": f"CPU µs per comment, score() at batch {args.batch} with explanation floors: "
                  "shipped vs previous model",
        "ours": round(new, 1), "baseline": round(prev, 1), "ratio": round(new / prev, 3),
        "goal": "ratio <= 1.5", "unit": "µs CPU/comment", "met": new / prev <= 1.5,
    }]
    result = {
        "name": "classifier_cpu",
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in
                            [".venv/bin/python", "bench/classifier_cpu.py", *(argv or sys.argv[1:])]),
        "model_version": models["new"].version, "baseline_version": models["previous"].version,
        "docs": len(docs), "doc_source": source, "rows": rows,
        "notes": f"medians of {args.repeats} interleaved repeats; per repeat new "
                 f"{[round(x) for x in got['new']]}, previous {[round(x) for x in got['previous']]}",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for r in rows:
        print(f"{r['figure']}: {r['ours']} vs {r['baseline']} (ratio {r['ratio']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
