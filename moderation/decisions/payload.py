"""What the CMS is told about a comment: the webhook reply's comment and the callback body, each built here only.

:func:`comment_json` is a comment as the webhook reply and ``GET`` answers show it.  :func:`callback_payload`
is the body of a callback announcing a decision, built at delivery time from the outbox row joined to the
decision row it announces (``d_*`` columns: status, actor, action, note, scores, reasons, model version)
and the comment (``c_*``: its CMS ids and language).  A moderator's decision is therefore announced with
the moderator's action and reason (the decision's reasons), not the model's earlier ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def _get(row: Mapping[str, Any], key: str) -> Any:
    try:
        return row[key]
    except KeyError:
        return None


def scores_json(spam: float | None, abuse: float | None) -> dict[str, float] | None:
    """``scores``: spam and abuse (= toxicity), as before per-attribute scores; None when unscored."""
    if spam is None or abuse is None:
        return None
    return {"spam": round(spam, 4), "abuse": round(abuse, 4)}


def attributes_json(attributes: Mapping[str, float] | None) -> dict[str, float] | None:
    """Per-attribute probabilities (only those scored for the comment's language); None when unscored."""
    if attributes is None:
        return None
    return {k: round(float(v), 4) for k, v in attributes.items()}


def comment_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A comment as the CMS sees it (webhook reply, callbacks).  ``row`` is a ``comments`` row or the dict
    intake builds before storing it."""
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "article_id": row["article_id"],
        "status": row["status"],
        "scores": scores_json(row["spam_score"], row["abuse_score"]),
        "attributes": attributes_json(_get(row, "attributes")),
        "language": _get(row, "language"),
        "reasons": row["reasons"],
        "model_version": row["model_version"],
    }


def callback_payload(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The callback body of an outbox row: built from its decision row (``d_*``) and comment (``c_*``), at
    the row's ``created_at`` (the decision's transaction time).  A row written before decisions were the
    only source (migration 0101) carries its body in ``payload``.  None when the decision no longer
    exists (it cannot, short of a manual DELETE: see schema.sql)."""
    if _get(row, "payload") is not None:
        return row["payload"]
    if _get(row, "d_id") is None:
        return None
    comment = {"id": row["comment_id"], "external_id": row["c_external_id"], "article_id": row["c_article_id"],
               "status": row["d_to_status"], "spam_score": row["d_spam_score"],
               "abuse_score": row["d_abuse_score"], "attributes": row["d_attributes"],
               "language": row["c_language"], "reasons": row["d_reasons"], "model_version": row["d_model_version"]}
    at: datetime = row["created_at"] or datetime.now(UTC)
    return {"type": f"comment.{row['d_to_status']}", "timestamp": at.astimezone(UTC).isoformat(),
            "data": {**comment_json(comment), "decided_by": row["d_actor"], "action": row["d_action"],
                     "decision_id": row["d_id"]}}
