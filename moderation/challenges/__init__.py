"""Confirmations readers earn before posting: an ALTCHA proof of work, the image/audio code, their tokens.

Modules: ``proof`` (ALTCHA challenge, check, adaptive difficulty), ``proof_api`` (its handlers), ``risk``
(when the code is asked after a proof), ``codes`` (alphabet, derivation, hashing), ``render`` (PNG/WAV),
``store`` (Postgres state), ``api`` (reader-facing handlers), ``siteverify`` (Turnstile-compatible check),
``intake_check`` (webhook ``confirmation_token``), ``demo`` (example comment form).
Documentation: docs/challenges.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from moderation.challenges import api, demo, proof_api, siteverify
from moderation.challenges.codes import code_for
from moderation.challenges.intake_check import check_confirmation
from moderation.challenges.render import Renderer, RenderPool
from moderation.core import cors, keys

__all__ = ["code_for", "setup"]

log = logging.getLogger(__name__)

CORS_PREFIXES = ("/v1/challenges",)


async def renderer_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load fonts and voice samples once (fails fast when the captcha data is missing), and own the pool of
    renderer processes (see ``render.RenderPool``)."""
    loop = asyncio.get_running_loop()
    renderer = Renderer()
    await loop.run_in_executor(app[keys.EXECUTOR], renderer.load)
    app[keys.CHALLENGE_RENDERER] = renderer
    config = app[keys.CONFIG]
    workers = config.challenge_render_processes
    pool = RenderPool(workers, config.challenge_render_niceness) if workers > 0 else None
    if pool is not None:
        app[keys.CHALLENGE_PROCESSES] = pool
    yield
    if pool is not None:
        await pool.aclose()


async def render_code(app: web.Application, kind: str, code: str) -> bytes:
    """The PNG (``kind='image'``) or WAV of ``code``, rendered off the event loop."""
    pool = app.get(keys.CHALLENGE_PROCESSES)
    if pool is not None:
        return await pool.render(kind, code)
    loop = asyncio.get_running_loop()
    renderer = app[keys.CHALLENGE_RENDERER]
    fn = renderer.image_png if kind == "image" else renderer.audio_wav
    return await loop.run_in_executor(app[keys.EXECUTOR], fn, code)


def setup(app: web.Application) -> None:
    """Register routes, the renderer and the webhook check (no I/O).  Expired challenges and tokens are
    deleted by the retention worker (moderation/privacy/retention.py)."""
    app.cleanup_ctx.append(renderer_ctx)
    r = app.router
    r.add_post("/v1/challenges", api.create_challenge)
    r.add_route("OPTIONS", "/v1/challenges", cors.preflight(("POST",)))
    r.add_get("/v1/challenges/config", proof_api.confirmation_config)
    r.add_get("/v1/challenges/proof", proof_api.issue_proof, allow_head=False)  # a HEAD would count an issue
    r.add_post("/v1/challenges/proof", proof_api.redeem_proof)
    r.add_route("OPTIONS", "/v1/challenges/proof", cors.preflight(("GET", "POST")))
    r.add_get("/v1/challenges/{id}/image", api.challenge_image, allow_head=False)  # a HEAD would count a render
    r.add_get("/v1/challenges/{id}/audio", api.challenge_audio, allow_head=False)
    r.add_post("/v1/challenges/{id}/answer", api.answer_challenge)
    r.add_route("OPTIONS", "/v1/challenges/{id}/answer", cors.preflight(("POST",)))
    r.add_post("/v1/siteverify", siteverify.siteverify)
    r.add_get("/demo/challenge", demo.demo_page)
    r.add_post("/demo/challenge", demo.demo_submit)
    app.on_response_prepare.append(cors.response_hook(CORS_PREFIXES))
    app[keys.INTAKE_CHECKS].append(check_confirmation)
