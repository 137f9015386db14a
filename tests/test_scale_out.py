"""Two instances against one database: claims, captcha tokens, rate limits and callbacks stay correct.

Nothing that matters lives in process memory, so two apps (each with its own pool, workers and caches)
sharing one Postgres must behave like one service.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from moderation.app import create_app
from moderation.challenges import code_for
from moderation.review import auth, decisions
from tests.test_outbox import Receiver, cb_config
from tests.test_review_support import actor, seed_comments


async def two_instances(aiohttp_client: Any, config: Any) -> tuple[Any, Any]:
    return await aiohttp_client(create_app(config)), await aiohttp_client(create_app(config))


async def bearer(db: Any, email: str) -> dict[str, str]:
    mod = await auth.create_moderator(db, email, "correct horse battery staple", "moderator")
    return {"Authorization": f"Bearer {await auth.issue_token(db, mod.id, 'scale-out test')}"}


async def test_claims_never_overlap_across_instances(aiohttp_client: Any, config: Any, db: Any) -> None:
    a, b = await two_instances(aiohttp_client, config)
    await seed_comments(db, 200)
    heads = [await bearer(db, f"mod{i}@news.example") for i in range(8)]

    async def claim(client: Any, headers: dict[str, str]) -> list[int]:
        got: list[int] = []
        while True:
            resp = await client.post("/v1/queue/claim", json={"limit": 7}, headers=headers)
            body = await resp.json()
            assert resp.status == 200, body
            items = body.get("items", body.get("comments", []))
            if not items:
                return got
            got += [item["id"] for item in items]

    claimed = await asyncio.gather(*(claim(a if i % 2 else b, h) for i, h in enumerate(heads)))
    flat = [cid for batch in claimed for cid in batch]
    assert len(flat) == len(set(flat)) == 200


async def test_captcha_token_issued_on_one_instance_is_single_use_on_both(aiohttp_client: Any, config: Any,
                                                                         db: Any) -> None:
    a, b = await two_instances(aiohttp_client, config)
    ch = await (await a.post("/v1/challenges", json={"article_id": "art-1"})).json()
    row = await db.fetchrow("SELECT id, salt, code_length FROM challenges WHERE id = $1", ch["id"])
    answer = await b.post(f"/v1/challenges/{ch['id']}/answer", json={"code": code_for(config.hashing_key, row)})
    token = (await answer.json())["token"]
    verdicts = await asyncio.gather(
        a.post("/v1/siteverify", data={"secret": "sv_test_secret", "response": token}),
        b.post("/v1/siteverify", data={"secret": "sv_test_secret", "response": token}))
    results = [(await v.json())["success"] for v in verdicts]
    assert sorted(results) == [False, True]


async def test_rate_limit_is_shared_by_instances(aiohttp_client: Any, config: Any) -> None:
    cfg = config.with_changes(challenge_rate_per_minute=6)
    a, b = await aiohttp_client(create_app(cfg)), await aiohttp_client(create_app(cfg))
    statuses = []
    for i in range(10):
        client = a if i % 2 else b
        statuses.append((await client.post("/v1/challenges", json={"article_id": "art-1"})).status)
    assert statuses.count(201) == 6 and statuses.count(429) == 4


async def test_each_callback_delivered_once_by_two_workers(aiohttp_client: Any, aiohttp_server: Any,
                                                           config: Any, db: Any) -> None:
    rec = Receiver()
    cms = web.Application()
    cms.router.add_post("/cb", rec.handle)
    url = str((await aiohttp_server(cms)).make_url("/cb"))
    cfg = cb_config(config, url)
    for cid in await seed_comments(db, 30):
        await decisions.apply(db, cfg, cid, "approve", actor(), "scale-out")
    await aiohttp_client(create_app(cfg))
    await aiohttp_client(create_app(cfg))
    for _ in range(150):
        if len(set(rec.ids())) >= 30:
            break
        await asyncio.sleep(0.1)
    assert len(set(rec.ids())) == 30
    assert len(rec.ids()) == 30, "an outbox row was delivered by both instances"
