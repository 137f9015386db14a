"""Every typed key stored on the aiohttp Application, in one place."""

from __future__ import annotations

from concurrent.futures import Executor

import asyncpg
from aiohttp import web

from moderation.core.config import Config, Thresholds

CONFIG = web.AppKey("config", Config)
THRESHOLDS = web.AppKey("thresholds", Thresholds)  # in force: config, else the model's recommended
POOL = web.AppKey("pool", asyncpg.Pool)
EMBEDDED_PG = web.AppKey("embedded_pg", "EmbeddedPostgres")
DB_HEALTH = web.AppKey("db_health", "DatabaseHealth")  # core/dbwatch.py: what /readyz reports at once
EXECUTOR = web.AppKey("executor", Executor)          # the one pool for CPU work: model, captcha rendering
MODEL = web.AppKey("model", "Model")
SCORER = web.AppKey("scorer", "MicroBatcher")
RULES = web.AppKey("rules", "RulesCache")
# Extra checks run on every parsed comment event before it is scored (e.g. confirmation tokens).
INTAKE_CHECKS = web.AppKey("intake_checks", list)
METRICS = web.AppKey("metrics", "Metrics")
# confirmation codes: the image/audio renderer (built in a cleanup_ctx, used in EXECUTOR)
CHALLENGE_RENDERER = web.AppKey("challenge_renderer", "Renderer")
# reactions demo page: the HTTP client that posts the demo's signed webhooks to our own intake endpoint
DEMO_HTTP = web.AppKey("demo_http", "ClientSession")
# review/outbox: the callback delivery worker of this instance (present when a callback URL is set)
OUTBOX_WORKER = web.AppKey("outbox_worker", "DeliveryWorker")
CHALLENGE_PROCESSES = web.AppKey("challenge_processes", "RenderPool")  # renderer processes (0 = none)
SHADOW_MODEL = web.AppKey("shadow_model", "Model")   # scores beside the active model, never decides
BACKGROUND = web.AppKey("background", set)           # fire-and-forget tasks awaited at shutdown
# openapi: the serialised OpenAPI document served at GET /openapi.json (built once in openapi.setup)
OPENAPI_SPEC = web.AppKey("openapi_spec", bytes)
INTAKE_WRITER = web.AppKey("intake_writer", "GroupCommitWriter")  # one commit for concurrent new comments
INTAKE_READER = web.AppKey("intake_reader", "GroupCommitWriter")  # intake_context reads, batched the same way
# compat (Perspective / Akismet protocols): API key lookups + per-key rate limits, and their per-key metrics
COMPAT_KEYS = web.AppKey("compat_keys", "KeyCache")
COMPAT_METRICS = web.AppKey("compat_metrics", "CompatMetrics")
COMPAT_BLOCKED = web.AppKey("compat_blocked", "BlockedIps")  # Akismet: blocked IP hashes, cached
