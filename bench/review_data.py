"""Generated comments for the review benchmarks (bench/review_claims.py, bench/review_scale.py).

Rows are made by Postgres itself (``INSERT ... SELECT generate_series``), so a million comments take
about a minute on a 2-core box.  Texts draw 8-15 words from a fixed vocabulary with a skewed (Zipf-like)
distribution, so search terms of known frequency exist: rank 0 is in most texts, rank ~100 in about
1 %, rank ~1500 in about 0.2 %.
"""

from __future__ import annotations

import itertools

import asyncpg

REAL = ["the", "council", "mayor", "budget", "school", "traffic", "police", "tax", "park", "housing",
        "election", "river", "bridge", "library", "hospital", "teacher", "bus", "market", "festival", "museum"]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "ve", "zo", "pi", "da", "su", "fe"]
VOCAB = REAL + ["".join(p) for p in itertools.product(SYLLABLES, repeat=3)][: 2000 - len(REAL)]

INSERT = """
INSERT INTO comments (external_id, article_id, parent_external_id, author_id, author_name, author_ip_hash, text,
                      fingerprint, status, spam_score, abuse_score, model_version, reasons, reason_codes,
                      created_at, received_at)
SELECT $1::text || g, 'art-' || (g % 1000), CASE WHEN g % 5 = 0 AND g > $2::int THEN $1::text || (g - 1) END,
       'reader-' || (g % 20000), 'Reader ' || (g % 20000), md5('ip' || (g % 5000)),
       (SELECT string_agg(($4::text[])[1 + floor(power(random(), 3) * array_length($4::text[], 1))::int], ' ')
        FROM generate_series(1, 8 + g % 8)),
       md5(g::text),
       CASE WHEN r.h < $5::float8 THEN 'pending' WHEN r.h < $5::float8 + 0.8 * (1 - $5::float8) THEN 'approved'
            WHEN r.h < $5::float8 + 0.92 * (1 - $5::float8) THEN 'spam' ELSE 'rejected' END,
       r.s, r.a, 'bench-model',
       jsonb_build_array(jsonb_build_object('code', CASE WHEN r.s > r.a THEN 'spam' ELSE 'abuse' END,
                                            'message', 'held: generated')),
       ARRAY[CASE WHEN r.s > r.a THEN 'spam' ELSE 'abuse' END],
       now() - make_interval(secs => ($3::int - g)), now() - make_interval(secs => ($3::int - g))
FROM generate_series($2::int, $3::int) g
CROSS JOIN LATERAL (SELECT random() + 0 * g AS h, random() AS s, random() * 0.8 AS a) r
"""

# Indexes on comments that a bulk load maintains row by row; dropped before and rebuilt (by re-applying
# schema.sql, which creates them IF NOT EXISTS) after, which is several times faster.
BULK_INDEXES = ["comments_article_status", "comments_fingerprint", "comments_queue_risk", "comments_queue_by_risk",
                "comments_queue_risk_unset",
                "comments_queue_age", "comments_search", "comments_search_pending", "comments_parent",
                "comments_author_status", "comments_bigrams_pending"]


async def generate(conn: asyncpg.Connection, start: int, count: int, *, pending_fraction: float,
                   prefix: str = "g-") -> None:
    await conn.execute("INSERT INTO articles (id, url, title) SELECT 'art-' || g, 'https://news.example/a/' || g, "
                       "'Article ' || g FROM generate_series(0, 999) g ON CONFLICT DO NOTHING")
    await conn.execute(INSERT, prefix, start, start + count - 1, VOCAB, pending_fraction, timeout=1800)


async def bulk_generate(conn: asyncpg.Connection, start: int, count: int, *, pending_fraction: float,
                        prefix: str = "g-") -> None:
    """generate() with the secondary indexes dropped during the load and rebuilt after, then ANALYZE."""
    from moderation.core.db import schema_path

    for name in BULK_INDEXES:
        await conn.execute(f"DROP INDEX IF EXISTS {name}")
    await conn.execute("SET maintenance_work_mem = '256MB'")
    await generate(conn, start, count, pending_fraction=pending_fraction, prefix=prefix)
    # schema.sql itself, not apply_schema(): that skips a file whose sha256 was already applied, which would
    # leave the dropped indexes missing (and the benchmarks measuring sequential scans).
    await conn.execute(schema_path().read_text(), timeout=1800)
    missing = await conn.fetch("SELECT n FROM unnest($1::text[]) n WHERE to_regclass(n) IS NULL", BULK_INDEXES)
    assert not missing, f"indexes not rebuilt: {[r['n'] for r in missing]}"
    await conn.execute("VACUUM ANALYZE comments", timeout=1800)
