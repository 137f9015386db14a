"""The bare baseline of bench/compat.py: aiohttp + the same model in the same kind of scoring process, behind
the same micro-batcher as the service, and nothing else (no key, no rate limit, no word lists, no metrics, no
validation beyond json.loads / the form parser).

    POST /analyze  {"comment": {"text": ...}}  -> {"toxicity": p, "spam": p}
    POST /check    form comment_content=...    -> "true" | "false"
"""

import asyncio
import functools
import json
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def make_app() -> web.Application:
    from classifier import load_model
    from classifier.batcher import MicroBatcher
    from moderation.core.config import Config, effective_thresholds
    from moderation.decisions.decide import explain_min
    from moderation.intake import scoring

    model = load_model()
    thresholds = effective_thresholds(Config(), model.metadata.get("thresholds"))
    processes = scoring.process_pool(1, None)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(processes, scoring.score, ["warm up"])
    batcher = MicroBatcher(functools.partial(scoring.score, explain_min=explain_min(thresholds)), processes,
                           max_in_flight=1)

    async def analyze(request: web.Request) -> web.Response:
        text = json.loads(await request.read())["comment"]["text"]
        s = await batcher.score(text)
        return web.json_response({"toxicity": s.abuse, "spam": s.spam})

    async def check(request: web.Request) -> web.Response:
        form = await request.post()
        s = await batcher.score(str(form.get("comment_content", "")))
        return web.Response(text="true" if s.spam >= thresholds.spam_hold else "false")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/analyze", analyze)
    app.router.add_post("/check", check)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
