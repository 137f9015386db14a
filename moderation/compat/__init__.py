"""Drop-in protocols: Perspective (commentanalyzer v1alpha1) and Akismet 1.1, keyed by API keys.

Existing integrations switch to this service by changing one URL; every call is scored by the same model,
word lists and blocked authors as the CMS webhook, and their feedback calls become training labels.
"""

from __future__ import annotations

from aiohttp import web

from moderation.compat import akismet, discovery, perspective
from moderation.compat.access import CompatMetrics
from moderation.compat.apikeys import KeyCache, key_cache_ctx
from moderation.compat.blocked import BlockedIps
from moderation.compat.google_errors import DESCRIPTIONS, KINDS
from moderation.core import keys, problems

PERSPECTIVE_PREFIX = "/v1alpha1"


def setup(app: web.Application) -> None:
    """Register the compat routes, the key cache and the per-key metrics (no I/O)."""
    for slug, (status, title, _) in KINDS.items():
        problems.CATALOGUE.setdefault(slug, (status, title, DESCRIPTIONS[slug]))
    for slug, (status, title, description) in akismet.PROBLEMS.items():
        problems.CATALOGUE.setdefault(slug, (status, title, description))
    app[keys.COMPAT_KEYS] = KeyCache(app[keys.CONFIG].api_key_rate_per_minute)
    app[keys.COMPAT_METRICS] = CompatMetrics(app[keys.METRICS].registry)
    app[keys.COMPAT_BLOCKED] = BlockedIps(app[keys.CONFIG])
    app.cleanup_ctx.append(key_cache_ctx)
    app.router.add_post(f"{PERSPECTIVE_PREFIX}/comments:analyze", perspective.analyze)
    app.router.add_post(f"{PERSPECTIVE_PREFIX}/comments:suggestscore", perspective.suggestscore)
    app.router.add_get("/$discovery/rest", discovery.discovery_rest)
    for method, handler in akismet.ROUTES.items():
        app.router.add_post(f"/1.1/{method}", handler)
