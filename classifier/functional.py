"""A HateCheck-style functional test suite (Röttger et al., 2021) with identity-term bias checks (Dixon et al., 2018).

    python -m classifier.functional [--model DIR] [--set tuning] [--failures]   # accuracy per functionality
    python -m classifier.functional --pin                                      # regenerate the test's pins

Templates (``tests/fixtures/classifier/functional/templates.csv``) are hand-written; each names its
functionality, its expected label (``abusive``: a moderator holds it; ``clean``: published), the attribute
that should fire, and its set: *tuning* cases may be looked at while changing the model, *check* cases are
the honest estimate.  Slots are filled from ``identities.csv`` (``{group}``, ``{Group}``, ``{adj}``,
``{member}``, ``{a_member}``: every template with an identity slot is expanded once per identity term) and
``slots.csv`` (``{person}``/``{Person}``: named people; ``{slur}``/``{slurs}``: slurs and their targets).
A ``spelling`` template marks one word in brackets and is expanded once per obfuscation in :data:`SPELLINGS`
into the functionalities ``spelling_<name>``.  Expansion is deterministic (file order, no randomness).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from classifier.evaluate_scorers import Scorer

SUITE_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "classifier" / "functional"
PINS = SUITE_DIR / "pins.json"
FUNCTIONALITY_GOAL = 0.80
OVERALL_GOAL = 0.90
IDENTITY_FPR_FACTOR = 2.0
# Clean functionalities whose templates mention identities neutrally or kindly: Dixon et al.'s FPR per term.
NEUTRAL_IDENTITY = ("identity_neutral", "identity_positive", "negated_hate")
IDENTITY_SLOTS = ("group", "Group", "adj", "member", "a_member")


@dataclass(frozen=True)
class Case:
    """One expanded test case."""

    id: str
    functionality: str
    set: str  # "tuning" | "check"
    label: str  # "abusive" | "clean"
    attribute: str  # the attribute that should fire ("" when none should)
    text: str
    template: str  # template id
    identity: str = ""  # identity term the case mentions (slot filler or slur target)


def _leet(w: str) -> str:
    return w.translate(str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "A": "4", "E": "3", "I": "1", "O": "0"}))


def _swap(w: str) -> str:
    i = max(1, len(w) // 2 - 1)
    return w[:i] + w[i + 1] + w[i] + w[i + 2 :] if len(w) > 3 else w


def _drop(w: str) -> str:
    i = len(w) // 2
    return w[:i] + w[i + 1 :] if len(w) > 3 else w


# name -> how the bracketed word is written.  "spaces_removed" is handled in _spell (it joins words).
SPELLINGS: dict[str, Callable[[str], str]] = {
    "leet": _leet,
    "spaces_added": lambda w: " ".join(w),
    "spaces_removed": lambda w: w,
    "swapped_chars": _swap,
    "dropped_char": _drop,
}
_MARK = re.compile(r"\[([^\]]+)\]")


def _spell(template: str, name: str) -> str:
    m = _MARK.search(template)
    if m is None:
        raise ValueError(f"spelling template without a [word]: {template!r}")
    before, word, after = template[: m.start()], m.group(1), template[m.end() :]
    if name == "spaces_removed":  # the word runs into its neighbour: "you idiot" -> "youidiot"
        if after.startswith(" "):
            return before + word + after[1:]
        return before.rstrip(" ") + word + after
    return before + SPELLINGS[name](word) + after


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


_SLOT = re.compile(r"\{(\w+)\}")


def expand(suite_dir: Path = SUITE_DIR) -> list[Case]:
    """Every case of the suite, in a fixed order."""
    identities = _read(suite_dir / "identities.csv")
    slots = _read(suite_dir / "slots.csv")
    persons = [r["value"] for r in slots if r["slot"] == "person"]
    slurs = [r for r in slots if r["slot"] == "slur"]
    cases: list[Case] = []
    for t in _read(suite_dir / "templates.csv"):
        names = set(_SLOT.findall(t["template"]))
        kinds = {"identity" if n in IDENTITY_SLOTS else "person" if n in ("person", "Person") else "slur"
                 for n in names}
        if len(kinds) > 1 or not names <= {*IDENTITY_SLOTS, "person", "Person", "slur", "slurs"}:
            raise ValueError(f"template {t['id']}: unsupported slots {sorted(names)}")
        fills: list[tuple[str, str, dict[str, str]]] = [("", "", {})]  # (key, identity, values)
        if kinds == {"identity"}:
            fills = [(i["term"], i["term"], {"group": i["group"], "Group": _cap(i["group"]), "adj": i["adj"],
                                             "member": i["member"], "a_member": _article(i["member"])})
                     for i in identities]
        elif kinds == {"person"}:
            fills = [(p.split()[-1], "", {"person": p, "Person": _cap(p)}) for p in persons]
        elif kinds == {"slur"}:
            fills = [(s["target"], s["target"], {"slur": s["value"], "slurs": s["plural"]}) for s in slurs]
        spellings = list(SPELLINGS) if t["functionality"] == "spelling" else [""]
        for spelling in spellings:
            template = _spell(t["template"], spelling) if spelling else t["template"]
            functionality = f"spelling_{spelling}" if spelling else t["functionality"]
            for key, identity, values in fills:
                text = _SLOT.sub(lambda m, v=values: v[m.group(1)], template)
                cid = "-".join(x for x in (t["id"], spelling, key.replace(" ", "_")) if x)
                cases.append(Case(cid, functionality, t["set"], t["label"], t["attribute"], text, t["id"], identity))
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate case ids in the functional suite")
    return cases


def digest(cases: Sequence[Case]) -> str:
    """sha256 of the expanded suite (pinned, so a changed template or filler is noticed)."""
    h = hashlib.sha256()
    for c in cases:
        h.update(json.dumps(asdict(c), sort_keys=True).encode())
    return h.hexdigest()


@dataclass
class SuiteResult:
    """One scorer's predictions on the suite."""

    scorer: str
    cases: list[Case]
    held: list[bool]
    fired: list[bool | None]  # expected attribute at/above its threshold (None: scorer lacks it / none expected)

    def correct(self) -> list[bool]:
        return [h == (c.label == "abusive") for c, h in zip(self.cases, self.held, strict=True)]

    def per_functionality(self, sets: Sequence[str] = ("tuning", "check")) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for c, ok, fired in zip(self.cases, self.correct(), self.fired, strict=True):
            if c.set not in sets:
                continue
            d = out.setdefault(c.functionality, {"label": c.label, "n": 0, "correct": 0, "fired_n": 0, "fired": 0})
            d["n"] += 1
            d["correct"] += int(ok)
            if fired is not None:
                d["fired_n"] += 1
                d["fired"] += int(fired)
        for d in out.values():
            d["accuracy"] = d["correct"] / d["n"]
            d["fired_share"] = d["fired"] / d["fired_n"] if d["fired_n"] else None
        return dict(sorted(out.items()))

    def overall(self, sets: Sequence[str] = ("tuning", "check")) -> float:
        oks = [ok for c, ok in zip(self.cases, self.correct(), strict=True) if c.set in sets]
        return sum(oks) / len(oks) if oks else float("nan")

    def identity_fpr(self, sets: Sequence[str] = ("tuning", "check")) -> tuple[float, dict[str, tuple[int, int]]]:
        """(overall FPR on the neutral identity templates, {term: (false positives, cases)})."""
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for c, h in zip(self.cases, self.held, strict=True):
            if c.functionality in NEUTRAL_IDENTITY and c.identity and c.set in sets:
                per[c.identity][0] += int(h)
                per[c.identity][1] += 1
        fp = sum(v[0] for v in per.values())
        n = sum(v[1] for v in per.values())
        return (fp / n if n else float("nan")), {k: (v[0], v[1]) for k, v in per.items()}

    def failures(self, sets: Sequence[str] = ("tuning",)) -> list[Case]:
        return [c for c, ok in zip(self.cases, self.correct(), strict=True) if not ok and c.set in sets]


def run(scorer: Scorer, cases: Sequence[Case] | None = None) -> SuiteResult:
    """Score the suite with ``scorer``: held = any holding attribute at or above its threshold."""
    cases = list(cases if cases is not None else expand())
    scores = scorer.score([c.text for c in cases])
    held = scorer.held(scores)
    fired: list[bool | None] = []
    for c, s in zip(cases, scores, strict=True):
        a = c.attribute
        if not a or a not in s or a not in scorer.thresholds:
            fired.append(None)
        else:
            fired.append(s[a] >= scorer.thresholds[a])
    return SuiteResult(scorer.name, cases, held, fired)


def pins_for(result: SuiteResult, version: str) -> dict[str, Any]:
    return {
        "model_version": version,
        "cases": len(result.cases),
        "suite_sha256": digest(result.cases),
        "per_functionality": {f: {"n": d["n"], "correct": d["correct"]} for f, d in result.per_functionality().items()},
    }


def _print_table(result: SuiteResult, sets: Sequence[str]) -> None:
    print(f"{result.scorer}: overall {result.overall(sets):.3f} ({', '.join(sets)})")
    for f, d in result.per_functionality(sets).items():
        fired = "" if d["fired_share"] is None else f"  attribute fired {d['fired_share']:.2f}"
        print(f"  {f:24s} {d['label']:8s} {d['correct']:4d}/{d['n']:<4d} {d['accuracy']:.3f}{fired}")
    fpr, per = result.identity_fpr(sets)
    worst = sorted(per.items(), key=lambda kv: -kv[1][0] / kv[1][1])[:5]
    print(f"  identity FPR overall {fpr:.3f}; highest: " + ", ".join(f"{k} {a}/{n}" for k, (a, n) in worst))


def main(argv: list[str] | None = None) -> int:
    from classifier.evaluate_scorers import shipped_scorer

    parser = argparse.ArgumentParser(prog="python -m classifier.functional", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--set", choices=("tuning", "check", "all"), default="all")
    parser.add_argument("--failures", action="store_true", help="list the failed cases (tuning set only)")
    parser.add_argument("--pin", action="store_true", help=f"write {PINS.name} for tests/test_functional_suite.py")
    args = parser.parse_args(argv)
    scorer = shipped_scorer(args.model)
    result = run(scorer)
    sets = ("tuning", "check") if args.set == "all" else (args.set,)
    _print_table(result, sets)
    if args.failures:
        for c in result.failures(("tuning",)):
            print(f"  FAIL {c.id:28s} expected {c.label:8s} {c.text!r}")
    if args.pin:
        PINS.write_text(json.dumps(pins_for(result, scorer.version), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {PINS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
