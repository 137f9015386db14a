"""create_app(config) -> web.Application: routes, middlewares and one cleanup_ctx per resource; no I/O."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from moderation import challenges, compat, openapi, privacy, review
from moderation.core import keys
from moderation.core.background import background_ctx
from moderation.core.config import Config
from moderation.core.db import EmbeddedPostgres, create_pool, db_error_middleware, migrate_for_start, open_embedded
from moderation.core.dbwatch import watching
from moderation.core.observability import Metrics, metrics_handler, request_middleware
from moderation.core.problems import Problem, problem_doc, problem_middleware
from moderation.core.sql import Q
from moderation.decisions import learning
from moderation.decisions.decide import explain_min
from moderation.decisions.rules_cache import RulesCache, seed_default_word_lists
from moderation.decisions.scores import thresholds_for
from moderation.delivery import outbox
from moderation.intake import scoring
from moderation.intake.group_commit import writer_ctx
from moderation.intake.webhook import handle_comment_webhook
from moderation.privacy.retention import retention_ctx
from moderation.readers import demo, public, reactions, reports
from moderation.review import risk

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

ScoreFn = Callable[[list[str]], list[Any]]


def executor_ctx(workers: int = 2) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        # Threads suffice: sklearn's sparse maths and PIL release the GIL for most of their work.
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cpu")
        app[keys.EXECUTOR] = executor
        yield
        executor.shutdown(wait=True, cancel_futures=True)
    return ctx


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    embedded: EmbeddedPostgres | None = None
    dsn = config.database_url
    if dsn is None:
        embedded, dsn = await open_embedded(config.data_dir)
        log.info("embedded Postgres running in %s", embedded.pgdata)
    # on a connection of its own (behind a transaction pooler: the direct URL); a no-op start locks nothing
    applied = await migrate_for_start(dsn, pooler=config.db_pooler, direct_url=config.db_direct_url)
    if applied:
        log.info("schema migrated to %s (%s)", applied[-1].label, ", ".join(m.label for m in applied))
    pool = await create_pool(dsn, size=config.db_pool_size, pooler=config.db_pooler)
    async with pool.acquire() as conn:
        await seed_default_word_lists(conn)
    app[keys.POOL] = pool
    if embedded is not None:
        app[keys.EMBEDDED_PG] = embedded
    async with watching(pool, embedded) as watcher:  # notices a dead server; restarts the embedded one
        app[keys.DB_HEALTH] = watcher.health
        yield
    await pool.close()
    if embedded is not None:
        await asyncio.get_running_loop().run_in_executor(None, embedded.stop)


def model_ctx(score_fn: ScoreFn | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        from classifier import load_model
        from classifier.batcher import MicroBatcher

        config = app[keys.CONFIG]
        executor = app[keys.EXECUTOR]
        loop = asyncio.get_running_loop()
        async with app[keys.POOL].acquire() as conn:
            registry = await learning.registered(conn)  # `moderation model promote|shadow` wrote these
        if "active" in registry and score_fn is None:
            config = config.with_changes(model_path=Path(registry["active"]["path"]))
        model = await loop.run_in_executor(executor, _load_model_once, config.model_path, load_model)
        app[keys.MODEL] = model
        app[keys.THRESHOLDS] = thresholds_for(config, model.metadata)
        if "shadow" in registry:
            app[keys.SHADOW_MODEL] = await loop.run_in_executor(
                executor, _load_model_once, Path(registry["shadow"]["path"]), load_model)
        processes = None
        try:
            if score_fn is None and config.scoring_processes > 0:
                processes = scoring.process_pool(config.scoring_processes, config.model_path)
                # load the model in every worker now, not on the first comment
                await asyncio.gather(*(loop.run_in_executor(processes, scoring.score, ["warm up"])
                                       for _ in range(config.scoring_processes)))
                # explain only what a decision quotes (decide() names terms only for labels at or above
                # their threshold): every stored decision is unchanged, the model worker does less
                score = functools.partial(scoring.score, explain_min=explain_min(app[keys.THRESHOLDS]))
                batcher = MicroBatcher(score, processes, max_in_flight=config.scoring_processes)
            else:
                batcher = MicroBatcher(score_fn or model.score, executor)
            app[keys.SCORER] = batcher
            log.info("model %s loaded (%s)", model.version,
                     f"{config.scoring_processes} scoring process(es)" if processes else "scoring in threads")
            yield
            await batcher.close()
        finally:  # also when start-up is interrupted (SIGTERM while warming up): never leak the workers
            if processes is not None:
                await loop.run_in_executor(None, lambda: processes.shutdown(wait=True, cancel_futures=True))
    return ctx


_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def _load_model_once(path: Path | None, load: Callable[[Path | None], Any]) -> Any:
    """A loaded model is immutable and thread-safe: apps in one process (tests, reloads) share it."""
    key = str(path)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load(path)
        return _MODELS[key]


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    checks: dict[str, str] = {}
    health = app.get(keys.DB_HEALTH)  # core/dbwatch.py: known down -> a short ping, and its reason
    known_down = health is not None and not health.up
    try:
        async with app[keys.POOL].acquire(timeout=0.5 if known_down else 2) as conn:
            await conn.fetchval(Q.ping, timeout=0.5 if known_down else 2)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = health.reason if known_down and health else f"unavailable: {exc.__class__.__name__}"
    model = app.get(keys.MODEL)
    checks["model"] = f"ok ({model.version})" if model is not None else "not loaded"
    if all(v.startswith("ok") for v in checks.values()):
        return web.json_response({"status": "ready", "checks": checks})
    raise Problem("service-unavailable", "not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items()),
                  headers={"Retry-After": "5"}, checks=checks)


def create_app(config: Config, *, score_fn: ScoreFn | None = None) -> web.Application:
    """Build the application.  ``score_fn`` replaces the model's batch scorer (tests of degraded mode)."""
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[request_middleware(config.max_concurrency, config.access_log_sample),
                                       problem_middleware, db_error_middleware])
    app[keys.CONFIG] = config
    app[keys.METRICS] = Metrics()
    app[keys.RULES] = RulesCache()
    app[keys.INTAKE_CHECKS] = []
    app.cleanup_ctx.append(executor_ctx())
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(model_ctx(score_fn))
    app.cleanup_ctx.append(background_ctx)
    app.cleanup_ctx.append(writer_ctx)
    # Background workers: one owner each, started after the pool and stopped before it closes.
    app.cleanup_ctx.append(outbox.outbox_ctx)     # callbacks to the CMS (when a callback URL is set)
    app.cleanup_ctx.append(retention_ctx)         # receipts, rate limits, sessions, challenges, ... (privacy)
    app.cleanup_ctx.append(risk.backfill_ctx)     # the queue's risk of comments stored before migration 0170

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/problems/{slug}", problem_doc)
    app.router.add_post("/v1/webhooks/comments", handle_comment_webhook)
    app.router.add_static("/static", STATIC_DIR, name="static")
    aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("moderation", "templates"),
                         autoescape=jinja2.select_autoescape(default=True))

    # Each capability registers its own routes (and the resources only its routes use).
    challenges.setup(app)
    review.setup(app)
    reactions.setup(app)
    public.setup(app)
    demo.setup(app)
    reports.setup(app)
    privacy.setup(app)
    compat.setup(app)
    openapi.setup(app)
    return app
