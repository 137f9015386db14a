"""Template helpers: highlighting from reasons as data, relative times, risk classes, queue cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from moderation.core.problems import CATALOGUE
from moderation.decisions import reasons as reasons_data
from moderation.review.risk import risk_of

# ── template helpers ───────────────────────────────────────────────────────────────────────────────
REASON_LABELS = {"spam": "spam term", "abuse": "abuse term", "banned_word": "banned word",
                 "suspect_word": "suspect word"}


def highlight(text: str, reasons: Any) -> Markup:
    """Escape ``text`` and wrap the reason terms in <mark>.  Matching runs on the raw text and every piece
    is escaped on output, so no user character ever reaches the page unescaped."""
    terms: dict[str, str] = {}
    for term, code in reasons_data.terms_of(reasons):   # from the reasons' data (old rows: their messages)
        if len(term) >= 2 and term.lower() not in terms:
            terms[term.lower()] = code
    if not terms or not text:
        return escape(text or "")
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    # a plural or verb ending still matches ('idiot' marks 'idiots'), as the rule layer's matching does
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?:s|es|ed|ing)?(?!\w)", re.IGNORECASE)
    pieces: list[Markup] = []
    pos = 0
    for m in pattern.finditer(text):
        word = m.group(0).lower()
        code = terms.get(word) or next((c for t, c in terms.items() if word.startswith(t)), "spam")
        pieces.append(escape(text[pos:m.start()]))
        pieces.append(Markup('<mark class="t-{}" title="{}">{}</mark>').format(
            code, REASON_LABELS.get(code, code), m.group(0)))
        pos = m.end()
    pieces.append(escape(text[pos:]))
    return Markup("").join(pieces)


def ago(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return ""
    seconds = (datetime.now(UTC) - value).total_seconds()
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _hold_of(attribute: str | None, t: dict[str, Any]) -> float:
    """The hold threshold (as stored with the comment) of the attribute a risk comes from; the lowest one in
    force when the attribute has none of its own (profanity that only notes, an unscored comment)."""
    name = {"spam": "spam_hold", "toxicity": "abuse_hold", "abuse": "abuse_hold"}.get(attribute or "",
                                                                                       f"{attribute}_hold")
    if isinstance(t.get(name), int | float):
        return float(t[name])
    holds = [float(v) for k, v in t.items() if k.endswith("_hold") and isinstance(v, int | float)]
    return min(holds, default=0.5)


def risk_class(risk: Any, thresholds: Any = None, attribute: str | None = None) -> str:
    """Colour of a risk score (moderation/review/risk.py): red from 0.8, amber from the hold threshold of the
    attribute it comes from (the lowest hold threshold in force for the comment when it has none), green
    below."""
    if not isinstance(risk, int | float):
        return "mid"
    t = thresholds if isinstance(thresholds, dict) else {}
    return "high" if risk >= 0.8 else "mid" if risk >= _hold_of(attribute, t) else "low"


def risk_attribute(item: dict[str, Any]) -> str | None:
    """The attribute a queue item's risk comes from (``threat``, ``spam``, …), None when the comment is
    unscored or its risk cannot be told apart (a comment the backfill has not reached shows its old
    max(spam, abuse): then ``spam`` or ``abuse``)."""
    shown = item.get("risk")
    if not isinstance(shown, int | float):
        return None
    scores = item.get("scores") or {}
    found = risk_of(item.get("attributes"), scores.get("spam"), scores.get("abuse"))
    if found.attribute is not None and abs(found.value - shown) < 1e-3:
        return found.attribute
    for name in ("spam", "abuse"):
        if isinstance(scores.get(name), int | float) and abs(scores[name] - shown) < 1e-3:
            return name
    return None


def card_view(item: dict[str, Any], tab: str) -> dict[str, Any]:
    """Everything a queue card shows, formatted once in Python (Jinja filters per item were half the render
    time of a 50-item page)."""
    t = item.get("thresholds") if isinstance(item.get("thresholds"), dict) else {}
    author, article = item["author"], item["article"]
    url = article.get("url") or ""
    scores = item.get("scores") or {}
    abuse_hold = float(t.get("abuse_hold", 0.5))
    attribute = risk_attribute(item)
    item["ui"] = {
        "risk": "—" if item.get("risk") is None else f"{item['risk']:.2f}",
        "risk_class": risk_class(item.get("risk"), t, attribute),
        # under the number: what it is the probability of ("threat"), or that the model did not score it
        "risk_label": attribute.replace("_", " ") if attribute
        else "unscored" if risk_of(item.get("attributes"), scores.get("spam"), scores.get("abuse")).attribute is None
        else "risk",
        "author_url": "/moderate/queue?" + urlencode({"status": tab, "author": author["id"]}),
        "article_filter_url": "/moderate/queue?" + urlencode({"status": tab, "article": article["id"]}),
        "block_url": "/moderate/blocked?" + urlencode({"kind": "author", "value": author["id"],
                                                       "name": author.get("name") or ""}),
        "article_link": url if url.startswith(("https://", "http://")) else None,
        "ago": ago(item.get("received_at")),
        "text": highlight(item.get("text") or "", item.get("reasons")),
        "spam": f"{scores['spam']:.2f}" if scores else "",
        "language": item.get("language"),
        "attributes": " · ".join(f"{a.replace('_', ' ')} {v:.2f}" for a, v in (item.get("attributes") or {}).items()
                                 if a not in ("spam", "toxicity") and v >= 0.05),
        "language_url": "/moderate/queue?" + urlencode({"status": tab, "language": item.get("language") or ""}),
        "abuse": f"{scores['abuse']:.2f}" if scores else "",
        "spam_hold": t.get("spam_hold", 0.5), "spam_reject": t.get("spam_reject", 0.9), "abuse_hold": abuse_hold,
        "abuse_high": min(abuse_hold + 0.3, 0.95),
    }
    return item


def qs(base: dict[str, Any], **overrides: Any) -> str:
    """A query string from ``base`` updated with ``overrides`` (empty values dropped)."""
    merged = {**base, **overrides}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def problem_title(slug: str) -> str:
    return CATALOGUE.get(slug, (0, slug, ""))[1]
