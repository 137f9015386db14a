"""The bare baseline for bench/comments_list.py: aiohttp + asyncpg, one SELECT of 50 approved comments."""

import json
import os
import sys

import asyncpg
from aiohttp import web

SQL = """SELECT id, external_id, parent_external_id, author_name, text, created_at FROM comments
WHERE article_id = $1 AND status = 'approved' ORDER BY created_at DESC, id DESC LIMIT 50"""


async def make_app() -> web.Application:
    app = web.Application()
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=10)

    async def listing(request: web.Request) -> web.Response:
        rows = await pool.fetch(SQL, request.match_info["article"])
        body = [{"id": r["id"], "external_id": r["external_id"], "parent_id": r["parent_external_id"],
                 "author": {"name": r["author_name"]}, "text": r["text"], "created_at": r["created_at"].isoformat()}
                for r in rows]
        return web.Response(text=json.dumps({"comments": body}), content_type="application/json")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/list/{article}", listing)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
