"""Review queue listing and search at the SQL level: the one-round-trip page (items identical to
``queue.item_json``), the adjacent-word-pair index behind exact-phrase search, and web-search semantics of
phrases (negated, or-ed) in the verbatim recheck."""

from __future__ import annotations

import random
from typing import Any

from moderation.review import queue
from tests.test_review_support import seed_comments


async def _ids(db: Any, q: str, status: str = "pending") -> set[str]:
    items, _ = await queue.list_queue(db, q=q, status=status, limit=200)
    return {i["external_id"] for i in items}


async def test_page_items_equal_item_json(db: Any) -> None:
    """list_queue builds a page in one query (history included); every field must match item_json."""
    await seed_comments(db, 3, prefix="p", author="reader-1", text="parent {i}", status="approved")
    await seed_comments(db, 2, prefix="a", author="reader-1", parent="p-1", text='quote "x" \\ {i} ünï 😀')
    await seed_comments(db, 1, prefix="b", author="reader-2", spam=None, abuse=None, parent="gone-404")
    await seed_comments(db, 1, prefix="s", author="reader-2", status="spam")
    # a whole-second timestamp (isoformat drops the fraction) and a live claim
    await db.execute("UPDATE comments SET created_at = '2026-01-02 03:04:05+00', claimed_by = 7, "
                     "claim_expires_at = now() + interval '5 minutes' WHERE external_id = 'a-0'")
    await db.execute("UPDATE comments SET claimed_by = 8, claim_expires_at = now() - interval '1 minute' "
                     "WHERE external_id = 'a-1'")
    for status, order in (("pending", "risk"), ("pending", "age"), ("approved", "newest"), ("spam", "risk")):
        items, _ = await queue.list_queue(db, status=status, order=order)
        assert items, status
        assert items == await queue.items_by_id(db, [i["id"] for i in items], order)
    item = next(i for i in (await queue.list_queue(db))[0] if i["external_id"] == "a-0")
    assert item["author"]["history"] == {"approved": 3, "pending": 2}
    assert item["parent"]["text"] == "parent 1" and item["claimed_by"] == 7
    assert item["created_at"] == "2026-01-02T03:04:05+00:00"
    unscored = next(i for i in (await queue.list_queue(db))[0] if i["external_id"] == "b-0")
    assert unscored["scores"] is None and unscored["risk"] == 1.0 and unscored["parent"]["id"] is None


async def test_claim_items_equal_queue_items(db: Any) -> None:
    """A claim hands out the same items (author history included) as a queue page shows for those ids."""
    await seed_comments(db, 2, prefix="p", author="reader-1", status="approved")
    await seed_comments(db, 3, prefix="a", author="reader-1", parent="p-0")
    await seed_comments(db, 1, prefix="b", author="reader-2", spam=None, abuse=None)
    claimed = await queue.claim(db, 5, 10)
    assert len(claimed) == 4 and all(i["claimed_by"] == 5 for i in claimed)
    assert claimed == await queue.items_by_id(db, [i["id"] for i in claimed])
    assert next(i for i in claimed if i["external_id"] == "a-0")["author"]["history"] == {"approved": 2,
                                                                                           "pending": 3}
    assert next(i for i in claimed if i["external_id"] == "b-0")["author"]["history"] == {"pending": 1}


async def test_pagination_is_unchanged(db: Any) -> None:
    await seed_comments(db, 7)
    seen: list[int] = []
    cursor = None
    while True:
        items, cursor = await queue.list_queue(db, limit=3, cursor=cursor)
        seen += [i["id"] for i in items]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


async def test_exact_phrase_uses_word_pairs_and_stays_exact(db: Any) -> None:
    texts = {
        "hit": "The council met. The budget passed",
        "punct": "the council, the budget",             # pair 'the budget' adjacent, punctuation differs
        "apart": "budget talks: the council met",       # both words, not adjacent
        "triple": "the council budget and the budget passed",   # pairs of 'council the budget'... not contiguous
        "hyphen": "send the e-mail address today",
        "spam": "The council met. The budget passed",   # not pending
    }
    for key, text in texts.items():
        await seed_comments(db, 1, prefix=key, text=text, status="spam" if key == "spam" else "pending")
    assert await _ids(db, '"the budget"') == {"hit-0", "punct-0", "triple-0"}
    assert await _ids(db, '"council the budget"') == set()            # pairs present, words not contiguous
    assert await _ids(db, '"met. the budget"') == {"hit-0"}
    assert await _ids(db, '"e-mail address"') == {"hyphen-0"}
    assert await _ids(db, '"mail address"') == {"hyphen-0"}
    assert await _ids(db, '"the budget" passed') == {"hit-0", "triple-0"}
    assert await _ids(db, '"the budget"', status="spam") == {"spam-0"}   # other statuses: no pair index
    # negated and or-ed phrases are not required of every match
    assert await _ids(db, 'budget -"the budget"') == {"apart-0"}
    assert await _ids(db, '"council met" or "e-mail address"') == {"hit-0", "apart-0", "hyphen-0"}
    assert await _ids(db, '"talks the council" OR today') == {"apart-0", "hyphen-0"}


async def test_phrase_search_plan_uses_the_pair_index(db: Any) -> None:
    await seed_comments(db, 1)
    await db.execute("""INSERT INTO comments (external_id, article_id, author_id, author_name, text, fingerprint,
                                              status, created_at)
                        SELECT 'g-' || g, 'art-1', 'r-' || g % 50, 'R',
                               CASE WHEN g % 40 = 0 THEN 'the council met ' ELSE 'council report: the budget ' END || g,
                               'f' || g, CASE WHEN g % 4 = 0 THEN 'pending' ELSE 'approved' END, now()
                        FROM generate_series(1, 2000) g""")
    await db.execute("ANALYZE comments")
    w = queue._Where()
    queue._filters(w, status="pending", reason=None, article=None, author=None, q='"the council"')
    await db.execute("SET enable_seqscan = off; SET enable_indexscan = off")
    assert len(await db.fetch(f"SELECT id FROM comments c{w.sql()}", *w.args)) == 50
    plan = "\n".join(r[0] for r in await db.fetch(f"EXPLAIN SELECT id FROM comments c{w.sql()}", *w.args))
    assert "comments_bigrams_pending" in plan
    assert "comments_search" not in plan          # not ANDed with the words' bitmap (see _filters)


async def test_pairs_of_a_phrase_match_are_in_the_index(db: Any) -> None:
    """The pair condition must never drop a real phrase match: for random texts and every phrase cut from
    them, ``search @@ phrase`` implies ``comment_bigrams(search) @> comment_bigrams(phrase)``."""
    rnd = random.Random(7)
    words = ["the", "council", "e-mail", "U.S.", "3.14", "don't", "a", "budget", "x@y.org", "Ünïcode", "--", "the"]
    docs = [" ".join(rnd.choice(words) for _ in range(rnd.randint(2, 12))) for _ in range(60)]
    phrases = set()
    for d in docs:
        toks = d.split()
        i = rnd.randrange(len(toks))
        phrases.add(" ".join(toks[i:i + rnd.randint(2, 4)]))
    bad = await db.fetch(
        """SELECT d, p FROM unnest($1::text[]) d, unnest($2::text[]) p
           WHERE to_tsvector('simple', d) @@ websearch_to_tsquery('simple', '"' || p || '"')
             AND NOT comment_bigrams(to_tsvector('simple', d)) @> comment_bigrams(to_tsvector('simple', p))""",
        docs, sorted(phrases))
    assert [tuple(r) for r in bad] == []


async def test_phrase_pages_recheck_candidates_in_order(db: Any) -> None:
    """Candidates of the pair index that fail the verbatim recheck are skipped without shortening a page,
    and keyset pages over a phrase search cover every match exactly once, in either order."""
    for i in range(9):
        text = "vote: the, budget {i}" if i % 3 == 0 else "we saw the budget {i}"   # 3 near-misses
        await seed_comments(db, 1, prefix=f"x{i}", text=text, start=i, spam=0.5 + i / 100)
    for order in ("risk", "age", "newest"):
        seen: list[str] = []
        cursor = None
        while True:
            items, cursor = await queue.list_queue(db, q='"the budget"', order=order, limit=2, cursor=cursor)
            assert len(items) == 2 or cursor is None
            seen += [i["external_id"] for i in items]
            if cursor is None:
                break
        assert sorted(seen) == sorted(f"x{i}-{i}" for i in range(9) if i % 3), order
        risks = [i["risk"] for i in (await queue.list_queue(db, q='"the budget"', limit=50))[0]]
        assert risks == sorted(risks, reverse=True)
