"""Learning from moderators: decisions become labels; a shadow model scores beside the active one; promote."""

from __future__ import annotations

import asyncio
import csv
import shutil
from pathlib import Path
from typing import Any

from moderation.app import create_app
from moderation.decisions import learning
from moderation.review import decisions
from tests.conftest import comment_payload, post_webhook

SHIPPED = Path(__file__).resolve().parent.parent / "classifier" / "models" / "default"


async def test_moderator_decisions_export_as_labels(client: Any, db: Any, config: Any, tmp_path: Path) -> None:
    ids = {}
    for cid, text in [("l-1", "Buy cheap pills at pills.example"), ("l-2", "Fair point about the budget"),
                      ("l-3", "You utter clown, nobody asked"), ("l-4", "Nice photo"), ("l-5", "untouched")]:
        body = await (await post_webhook(client, comment_payload(cid, text))).json()
        ids[cid] = body["comment"]["id"]
    await db.execute("UPDATE comments SET status = 'pending'")
    await decisions.apply(db, config, ids["l-1"], "spam", "moderator:1", None)
    await decisions.apply(db, config, ids["l-2"], "approve", "moderator:1", None)
    await decisions.apply(db, config, ids["l-3"], "reject", "moderator:1", "abusive")
    undone = await decisions.apply(db, config, ids["l-4"], "reject", "moderator:1", None)
    await decisions.undo(db, config, undone["decision"]["decision_id"], "moderator:1")
    threat = await decisions.apply(db, config, ids["l-5"], "reject", "moderator:1", "Threat against the mayor")
    assert threat["decision"]["to_status"] == "rejected"
    path = tmp_path / "labels.csv"
    assert await learning.export_labels(db, path) == 4
    rows = {r["text"]: r for r in csv.DictReader(path.open())}
    assert list(next(csv.reader(path.open()))) == ["text", "language", "label", "spam", "toxicity", "severe_toxicity",
                                                   "insult", "threat", "identity_attack", "profanity",
                                                   "sexually_explicit"]
    spam, ok, clown, mayor = (rows[t] for t in ("Buy cheap pills at pills.example", "Fair point about the budget",
                                               "You utter clown, nobody asked", "untouched"))
    assert (spam["label"], spam["spam"], spam["toxicity"]) == ("spam", "1", "")      # abuse unknown
    assert ok["label"] == "ham" and {ok[a] for a in ("spam", "toxicity", "threat", "insult")} == {"0"}
    assert (clown["label"], clown["toxicity"], clown["insult"], clown["threat"]) == ("abusive", "1", "1", "")
    assert (mayor["label"], mayor["toxicity"], mayor["threat"], mayor["spam"]) == ("abusive", "1", "1", "")
    assert ok["language"] == "en"
    from classifier.data import load_decisions  # an older trainer still reads the label column

    records, info = load_decisions(path)
    assert len(records) == 4 and info["sha256"]


def test_a_moderators_reason_maps_to_attribute_labels() -> None:
    from moderation.decisions.labels import from_decision

    assert from_decision("reject", "threat") == {"threat": 1, "toxicity": 1}
    assert from_decision("reject", "Racist slur") == {"identity_attack": 1, "toxicity": 1}
    assert from_decision("reject", "obscene, and a personal attack") == {"insult": 1, "toxicity": 1, "profanity": 1}
    assert from_decision("reject", "off topic") == {}
    assert from_decision("reject", None) == {"toxicity": 1}
    assert from_decision("reject", "advertising spam") == {"spam": 1}
    assert from_decision("spam", "whatever") == {"spam": 1} and from_decision("not_spam", None) == {"spam": 0}
    assert set(from_decision("approve", None).values()) == {0}


async def test_shadow_model_scores_beside_active_then_promote(aiohttp_client: Any, config: Any, db: Any,
                                                              tmp_path: Path) -> None:
    candidate = tmp_path / "candidate"
    shutil.copytree(SHIPPED, candidate)
    version = await learning.register_shadow(db, candidate)
    client = await aiohttp_client(create_app(config))
    app = client.server.app
    assert app[learning.keys.SHADOW_MODEL].version == version
    body = await (await post_webhook(client, comment_payload("s-1", "Check out my channel, subscribe!"))).json()
    for _ in range(50):  # shadow scoring runs after the answer
        if await db.fetchval("SELECT count(*) FROM shadow_scores"):
            break
        await asyncio.sleep(0.1)
    row = await db.fetchrow("SELECT * FROM shadow_scores")
    assert row["comment_id"] == body["comment"]["id"] and row["model_version"] == version
    assert row["active_status"] == body["comment"]["status"]
    report = await learning.report(db)
    assert report["compared"] == 1 and report["agreement"] == 1.0   # same weights: full agreement
    # per attribute: the same scores, the same side of every threshold
    assert set(report["attributes"]) >= {"spam", "toxicity"}
    for figures in report["attributes"].values():
        assert figures["compared"] == 1 and figures["agreement"] == 1.0 and figures["mean_abs_difference"] == 0
    promoted = await learning.promote(db)
    assert promoted is not None and promoted["version"] == version
    assert promoted["compared"]["attributes"] == report["attributes"]
    assert (await learning.registered(db))["active"]["path"] == str(candidate.resolve())
    client2 = await aiohttp_client(create_app(config))
    assert client2.server.app[learning.keys.MODEL].version == version
    assert learning.keys.SHADOW_MODEL not in client2.server.app
