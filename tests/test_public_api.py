"""The public comment API: published-only threads, counts, my_reaction, cursors, caching, CORS, hiding."""

from __future__ import annotations

from typing import Any

from moderation.app import create_app
from tests.conftest import comment_payload, post_webhook
from tests.test_reactions import assert_problem, seed_comment


async def test_only_published_comments_threaded_with_counts(client: Any, db: Any) -> None:
    root = await seed_comment(db, "c-root", created_at="2026-11-25T10:00:00Z", author="Root Writer")
    reply = await seed_comment(db, "c-reply", parent="c-root", created_at="2026-11-25T10:05:00Z")
    await seed_comment(db, "c-reply2", parent="c-reply", created_at="2026-11-25T10:06:00Z")
    await seed_comment(db, "c-held", status="pending", created_at="2026-11-25T10:07:00Z")
    await seed_comment(db, "c-held-reply", parent="c-root", status="spam")
    await seed_comment(db, "c-under-held", parent="c-held", created_at="2026-11-25T10:08:00Z")  # orphan: own thread
    await seed_comment(db, "c-other-article", article="art-2")
    await client.put(f"/v1/comments/{reply}/reaction", json={"reader_id": "r1", "kind": "like"})
    await client.put(f"/v1/comments/{reply}/reaction", json={"reader_id": "r2", "kind": "dislike"})
    await client.put(f"/v1/comments/{root}/reaction", json={"reader_id": "r1", "kind": "dislike"})
    await client.put("/v1/articles/art-1/reaction", json={"reader_id": "r1", "kind": "like"})

    resp = await client.get("/v1/articles/art-1/comments?order=oldest")
    body = await resp.json()
    assert resp.status == 200, body
    assert body["total"] == 4 and body["next_cursor"] is None
    assert body["article"] == {"id": "art-1", "likes": 1, "dislikes": 0, "total_comments": 4}
    assert [c["external_id"] for c in body["comments"]] == ["c-root", "c-under-held"]
    first = body["comments"][0]
    assert first["id"] == root and first["parent_id"] is None and first["author"] == {"name": "Root Writer"}
    assert (first["likes"], first["dislikes"]) == (0, 1) and first["created_at"].startswith("2026-11-25T10:00")
    assert "my_reaction" not in first
    [r] = first["replies"]
    assert (r["external_id"], r["parent_id"], r["likes"], r["dislikes"]) == ("c-reply", "c-root", 1, 1)
    assert [x["external_id"] for x in r["replies"]] == ["c-reply2"]
    assert body["comments"][1]["parent_id"] == "c-held"
    # nothing personal or internal leaks
    text = await resp.text()
    for secret in ("emailhash", "iphash", "author-c-root", "spam_score", "status", "reasons"):
        assert secret not in text
    # the reader's own reactions when a reader id is given
    mine = await (await client.get("/v1/articles/art-1/comments?order=oldest&reader_id=r1")).json()
    assert mine["comments"][0]["my_reaction"] == "dislike"
    assert mine["comments"][0]["replies"][0]["my_reaction"] == "like"
    assert mine["comments"][1]["my_reaction"] is None and mine["article"]["my_reaction"] == "like"


async def test_cursor_pagination_walks_every_thread_once(client: Any, db: Any) -> None:
    for i in range(23):
        # equal timestamps in pairs: the (created_at, id) keyset must still be a total order
        await seed_comment(db, f"c-{i:02d}", created_at=f"2026-11-25T10:{i // 2:02d}:00Z")
    for order in ("newest", "oldest"):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            url = f"/v1/articles/art-1/comments?limit=5&order={order}" + (f"&cursor={cursor}" if cursor else "")
            body = await (await client.get(url)).json()
            assert body["total"] == 23
            seen += [c["external_id"] for c in body["comments"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        expected = [f"c-{i:02d}" for i in range(23)]
        assert seen == (expected if order == "oldest" else expected[::-1]) and pages == 5


async def test_bad_list_parameters_are_422(client: Any) -> None:
    for query, field in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
                         ("order=random", "order"), ("cursor=garbage!", "cursor"),
                         ("reader_id=", "reader_id")]:
        resp = await client.get(f"/v1/articles/art-1/comments?{query}")
        body = await resp.json()
        assert_problem(resp, body, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == [field], query
    # a cursor of the other order is refused too
    body = await (await client.get("/v1/articles/art-1/comments?order=oldest&limit=1")).json()
    assert body["next_cursor"] is None  # no comments at all
    resp = await client.get("/v1/articles/" + "x" * 300 + "/comments")
    assert_problem(resp, await resp.json(), 422, "validation-error")


async def test_cursor_from_the_other_order_is_refused(client: Any, db: Any) -> None:
    for i in range(3):
        await seed_comment(db, f"c-{i}", created_at=f"2026-11-25T10:0{i}:00Z")
    cursor = (await (await client.get("/v1/articles/art-1/comments?limit=1")).json())["next_cursor"]
    assert cursor
    resp = await client.get(f"/v1/articles/art-1/comments?limit=1&order=oldest&cursor={cursor}")
    assert_problem(resp, await resp.json(), 422, "validation-error")


async def test_etag_and_cache_control(client: Any, db: Any) -> None:
    cid = await seed_comment(db, "c-1")
    resp = await client.get("/v1/articles/art-1/comments")
    etag = resp.headers["ETag"]
    assert resp.headers["Cache-Control"] == "public, max-age=5"
    assert "Cookie" in resp.headers["Vary"] and "Origin" in resp.headers["Vary"]
    again = await client.get("/v1/articles/art-1/comments", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag and await again.read() == b""
    # a reaction changes the representation, so the ETag changes
    await client.put(f"/v1/comments/{cid}/reaction", json={"reader_id": "r1", "kind": "like"})
    changed = await client.get("/v1/articles/art-1/comments", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    # the summary is cacheable the same way; personalised answers are private
    summary = await client.get("/v1/articles/art-1")
    assert summary.headers["Cache-Control"] == "public, max-age=5" and summary.headers["ETag"]
    assert (await client.get("/v1/articles/art-1/comments?reader_id=r1")).headers["Cache-Control"] == \
        "private, no-cache"


async def test_max_age_zero_means_revalidate(aiohttp_client: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(public_max_age_s=0)))
    resp = await client.get("/v1/articles/art-1")
    assert resp.headers["Cache-Control"] == "public, no-cache"


async def test_unknown_article_is_empty_not_404(client: Any) -> None:
    body = await (await client.get("/v1/articles/nothing-yet")).json()
    assert body == {"id": "nothing-yet", "likes": 0, "dislikes": 0, "total_comments": 0}
    body = await (await client.get("/v1/articles/nothing-yet/comments")).json()
    assert body["comments"] == [] and body["total"] == 0 and body["next_cursor"] is None


async def test_cors_for_configured_origins_only(aiohttp_client: Any, config: Any) -> None:
    client = await aiohttp_client(create_app(config.with_changes(cors_origins=("https://news.example",))))
    ok = await client.get("/v1/articles/art-1/comments", headers={"Origin": "https://news.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "ETag" in ok.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in ok.headers  # no cross-site cookie mode by default
    bad = await client.get("/v1/articles/art-1/comments?limit=0", headers={"Origin": "https://news.example"})
    assert bad.status == 422 and bad.headers["Access-Control-Allow-Origin"] == "https://news.example"
    other = await client.get("/v1/articles/art-1", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    # moderator endpoints never get reader CORS headers
    mod = await client.get("/v1/comments/1", headers={"Origin": "https://news.example"})
    assert "Access-Control-Allow-Origin" not in mod.headers


async def test_comment_leaving_approved_disappears_at_once(aiohttp_client: Any, config: Any, db: Any) -> None:
    """Through the real paths: the CMS webhook publishes, a moderator rejects, the next read hides it and the
    CMS gets a callback (outbox row) from the review capability."""
    client = await aiohttp_client(create_app(config.with_changes(callback_url="http://127.0.0.1:9/hook")))
    resp = await post_webhook(client, comment_payload("c-pub", "A thoughtful, well argued article. Thanks."))
    comment = (await resp.json())["comment"]
    assert comment["status"] == "approved"
    listed = await (await client.get("/v1/articles/art-1/comments")).json()
    assert [c["id"] for c in listed["comments"]] == [comment["id"]] and listed["total"] == 1
    etag = (await client.get("/v1/articles/art-1/comments")).headers["ETag"]

    from moderation.core import keys
    from moderation.review.auth import create_moderator, issue_token

    pool = client.app[keys.POOL]
    moderator = await create_moderator(pool, "mod@example.org", "correct horse battery staple", "moderator")
    token = await issue_token(pool, moderator.id, "tests")
    resp = await client.post(f"/v1/comments/{comment['id']}/decision", json={"action": "reject"},
                             headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200, await resp.text()
    after = await client.get("/v1/articles/art-1/comments", headers={"If-None-Match": etag})
    body = await after.json()
    assert after.status == 200 and body["comments"] == [] and body["total"] == 0
    assert (await (await client.get("/v1/articles/art-1")).json())["total_comments"] == 0
    resp = await client.put(f"/v1/comments/{comment['id']}/reaction", json={"reader_id": "r", "kind": "like"})
    assert resp.status == 404
    events = await db.fetch("SELECT event_type FROM outbox WHERE comment_id = $1 ORDER BY id", comment["id"])
    assert [e["event_type"] for e in events][-1] == "comment.rejected"
