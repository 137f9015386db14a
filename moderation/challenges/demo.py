"""``/demo/challenge``: an example article comment form with the widget, and what a CMS does on submit."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from moderation.challenges import store
from moderation.core import keys
from moderation.core.problems import Problem

DEMO_ARTICLE = "demo-article"


@aiohttp_jinja2.template("challenges/demo.html")
async def demo_page(request: web.Request) -> dict[str, object]:
    # ?endpoint=<base URL> embeds the widget against another origin (to try CORS); default: this origin
    return {"article_id": request.query.get("article_id", DEMO_ARTICLE)[:256],
            "endpoint": request.query.get("endpoint", "")[:200]}


async def demo_submit(request: web.Request) -> web.Response:
    """Plays the CMS: checks the form's ``confirmation_token`` exactly once, as siteverify would."""
    try:
        form = await request.post()
    except ValueError:  # e.g. multipart/form-data without a boundary: a 400, not a 500
        raise Problem("bad-request", "The form body could not be parsed.") from None
    token = str(form.get("confirmation_token") or "")
    article_id = str(form.get("article_id") or DEMO_ARTICLE)[:256]
    if token:
        verdict = await store.consume(request.app[keys.POOL], request.app[keys.CONFIG], token,
                                      article_id=article_id, action="comment", used_by="demo")
        ok, reason = verdict.ok, verdict.reason
    else:
        ok, reason = False, "no confirmation token: solve the code first"
    context = {"ok": ok, "reason": reason, "name": str(form.get("name") or ""),
               "comment": str(form.get("comment") or "")[:2000], "article_id": article_id}
    return aiohttp_jinja2.render_template("challenges/demo_result.html", request, context,
                                          status=200 if ok else 422)
