"""The bare baseline: aiohttp + asyncpg, one INSERT of the raw body per request, nothing else."""

import os
import sys

import asyncpg
from aiohttp import web


async def make_app() -> web.Application:
    app = web.Application()
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=10)
    await pool.execute("CREATE TABLE IF NOT EXISTS bare (id bigserial PRIMARY KEY, body text NOT NULL)")

    async def insert(request: web.Request) -> web.Response:
        body = await request.text()
        new_id = await pool.fetchval("INSERT INTO bare (body) VALUES ($1) RETURNING id", body)
        return web.json_response({"id": new_id})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_post("/insert", insert)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
