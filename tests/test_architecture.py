"""The wiring rules of README "Design": create_app owns every background worker, capabilities register only
their own routes and commands."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from moderation.app import create_app
from moderation.delivery.outbox import outbox_ctx
from moderation.privacy.retention import retention_ctx


def test_create_app_owns_the_background_workers(config: Any) -> None:
    app = create_app(config)
    contexts = list(app.cleanup_ctx)
    for worker in (outbox_ctx, retention_ctx):
        assert contexts.count(worker) == 1, worker


def test_capability_setup_registers_no_worker_and_no_foreign_route(config: Any) -> None:
    """review.setup used to start the outbox worker and reactions.setup registered the public API and
    the demo: each setup now adds only its own routes."""
    from moderation import review
    from moderation.core import keys
    from moderation.readers import reactions

    reaction_routes = ("/v1/articles/{article_id}/reaction", "/v1/comments/{id}/reaction", "/v1/reactions/")
    for setup, prefixes in ((review.setup, ("/v1/", "/moderate")), (reactions.setup, reaction_routes)):
        app = web.Application()
        app[keys.CONFIG] = config
        aiohttp_jinja2_setup(app)
        setup(app)
        assert len(app.cleanup_ctx) == 0, setup
        paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
        assert paths and all(p.startswith(prefixes) for p in paths), sorted(paths)
    assert not any(p.startswith(("/v1/articles/{article_id}/comments", "/demo/")) for p in paths)


def aiohttp_jinja2_setup(app: web.Application) -> None:
    import aiohttp_jinja2
    import jinja2

    aiohttp_jinja2.setup(app, loader=jinja2.PackageLoader("moderation", "templates"))


def test_every_capability_registers_its_commands() -> None:
    from moderation.cli import COMMANDS, _load_plugins

    _load_plugins()
    assert {"serve", "create-moderator", "issue-token", "reactions-check", "model"} <= set(COMMANDS)
